// The data sets in the data folder: open one for training, list, remove. The embedded synthetic set
// is drawn and stored on first use, then loaded like any imported set.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetManifest } from '../../src-shared/datasets';
import { homePaths } from '../home';
import { DatasetError } from './errors';
import { datasetDir, MANIFEST_FILE, readManifest, readSplit, writeDataset } from './store';
import { generateSynthetic, SYNTHETIC_CLASSES, SYNTHETIC_DEFAULTS, SYNTHETIC_VERSION } from './synthetic';
import type { Split } from './types';
import { tempPathInHome } from '../temp-files';

const SYNTHETIC_ID = 'synthetic';

export interface OpenedDataset {
  manifest: DatasetManifest;
  train: Split;
  test: Split;
}

function isCurrentSynthetic(dir: string): boolean {
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) return false;
  try {
    const m = readManifest(dir);
    return m.source === 'synthetic' && m.origin.version === SYNTHETIC_VERSION && m.origin.seed === SYNTHETIC_DEFAULTS.seed;
  } catch {
    return false;
  }
}

/** Makes sure the synthetic set is stored in its current version; returns its folder. */
function ensureSynthetic(home: string): string {
  const dir = datasetDir(home, SYNTHETIC_ID);
  if (isCurrentSynthetic(dir)) return dir;
  // A copy from an older generator version (or a damaged one) is replaced.
  if (fs.existsSync(dir)) removeDir(home, dir);
  const { train, test } = generateSynthetic();
  try {
    writeDataset(
      home,
      {
        id: SYNTHETIC_ID,
        name: 'Synthetic shapes and textures',
        source: 'synthetic',
        classes: [...SYNTHETIC_CLASSES],
        flipAugment: true,
        origin: { generator: 'exitlab synthetic', version: SYNTHETIC_VERSION, ...SYNTHETIC_DEFAULTS },
      },
      { train, test },
    );
  } catch (err) {
    // Another process drew it at the same time: theirs is identical.
    if (!(err instanceof DatasetError && isCurrentSynthetic(dir))) throw err;
  }
  return dir;
}

function storedIds(home: string): string[] {
  const root = homePaths(home).datasets;
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(root, e.name, MANIFEST_FILE)))
    .map((e) => e.name)
    .sort();
}

/** Ids a user can pass to `--dataset`: the stored sets plus the synthetic one. */
export function availableIds(home: string): string[] {
  return [...new Set([SYNTHETIC_ID, ...storedIds(home)])].sort();
}

function resolveDir(home: string, id: string): string {
  if (id === SYNTHETIC_ID) return ensureSynthetic(home);
  const dir = datasetDir(home, id);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id) || !fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new DatasetError(`unknown data set '${id}' (available: ${availableIds(home).join(', ')})`);
  }
  return dir;
}

export function openDataset(home: string, id: string): OpenedDataset {
  const dir = resolveDir(home, id);
  const manifest = readManifest(dir);
  return { manifest, train: readSplit(dir, manifest, 'train'), test: readSplit(dir, manifest, 'test') };
}

export function readDatasetManifest(home: string, id: string): DatasetManifest {
  return readManifest(resolveDir(home, id));
}

/** The folder and manifest of a data set (the synthetic one is drawn first if needed). */
export function locateDataset(home: string, id: string): { dir: string; manifest: DatasetManifest } {
  const dir = resolveDir(home, id);
  return { dir, manifest: readManifest(dir) };
}

/** Manifests of all data sets in the data folder; the synthetic set is drawn first if it is missing. */
export function listDatasets(home: string): DatasetManifest[] {
  ensureSynthetic(home);
  return storedIds(home).map((id) => readManifest(datasetDir(home, id)));
}

function removeDir(home: string, dir: string): void {
  // Rename first so a half-deleted folder is never taken for a data set.
  const trash = tempPathInHome(home, `removed-${path.basename(dir)}`);
  fs.renameSync(dir, trash);
  fs.rmSync(trash, { recursive: true, force: true });
}

export function removeDataset(home: string, id: string): void {
  const dir = datasetDir(home, id);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id) || !fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new DatasetError(`unknown data set '${id}' (stored: ${storedIds(home).join(', ') || 'none'})`);
  }
  removeDir(home, dir);
}
