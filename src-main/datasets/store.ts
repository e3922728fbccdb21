// On-disk format of a data set, the same for imported and generated sets:
//   <home>/datasets/<id>/manifest.json           DatasetManifest (src-shared/datasets.ts)
//   <home>/datasets/<id>/<split>.images.u8       count x 32x32x3 uint8, HWC (what the pipeline reads)
//   <home>/datasets/<id>/<split>.labels.u8       count uint8 labels
// Loading is two reads per split. Writing goes to a fresh folder under <home>/tmp and is renamed into
// place at the end, so a crash or a bad input never leaves a half-written set behind.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetManifestSchema, IMAGE_SIDE, IMAGE_VALUES, type DatasetManifest } from '../../src-shared/datasets';
import { homePaths } from '../home';
import { DatasetError } from './errors';
import type { Split } from './types';
import { tempPathInHome } from '../temp-files';
import { rethrowWriteFailure } from '../write-errors';

export const MANIFEST_FILE = 'manifest.json';

const splitFiles = (dir: string, split: string) => ({
  images: path.join(dir, `${split}.images.u8`),
  labels: path.join(dir, `${split}.labels.u8`),
});

export const datasetDir = (home: string, id: string) => path.join(homePaths(home).datasets, id);

export function splitChecksum(split: Split): string {
  return crypto
    .createHash('sha256')
    .update(split.images.subarray(0, split.count * IMAGE_VALUES))
    .update(split.labels.subarray(0, split.count))
    .digest('hex');
}

/** Per-channel mean and std of HWC uint8 images, in [0,1] units. */
function channelStats(split: Split): { mean: [number, number, number]; std: [number, number, number] } {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  const n = split.count * IMAGE_VALUES;
  const img = split.images;
  for (let i = 0; i < n; i += 3) {
    const r = img[i];
    const g = img[i + 1];
    const b = img[i + 2];
    sum[0] += r;
    sum[1] += g;
    sum[2] += b;
    sq[0] += r * r;
    sq[1] += g * g;
    sq[2] += b * b;
  }
  const pixels = Math.max(1, split.count * IMAGE_SIDE * IMAGE_SIDE);
  const mean = sum.map((s) => s / pixels / 255);
  const std = sq.map((s, k) => Math.sqrt(Math.max(0, s / pixels / (255 * 255) - mean[k] * mean[k])));
  return { mean: mean as [number, number, number], std: std as [number, number, number] };
}

export type ManifestDraft = Omit<DatasetManifest, 'formatVersion' | 'height' | 'width' | 'channels' | 'splits' | 'mean' | 'std' | 'importedAt'>;

function checkSplit(name: string, split: Split, classes: number): void {
  if (split.images.length < split.count * IMAGE_VALUES || split.labels.length < split.count) {
    throw new Error(`split '${name}' holds fewer bytes than its ${split.count} images need`);
  }
  for (let i = 0; i < split.count; i++) {
    if (split.labels[i] >= classes) throw new DatasetError(`split '${name}': label ${split.labels[i]} of image ${i} is out of range (0–${classes - 1})`);
  }
}

/**
 * Writes a data set atomically under <home>/datasets/<draft.id>. Mean and std come from the 'train'
 * split. Throws DatasetError when a set with that id already exists; nothing is left behind on failure.
 */
export function writeDataset(home: string, draft: ManifestDraft, splits: Record<string, Split>): DatasetManifest {
  if (!splits.train) throw new Error('writeDataset: a data set needs a train split');
  for (const [name, split] of Object.entries(splits)) checkSplit(name, split, draft.classes.length);
  const target = datasetDir(home, draft.id);
  if (fs.existsSync(target)) {
    throw new DatasetError(
      `a data set with id '${draft.id}' already exists (remove it first with \`exitlab datasets remove ${draft.id}\`, or pick another --name)`,
    );
  }
  const stats = channelStats(splits.train);
  const manifest = DatasetManifestSchema.parse({
    formatVersion: 1,
    ...draft,
    height: 32,
    width: 32,
    channels: 3,
    splits: Object.fromEntries(Object.entries(splits).map(([name, s]) => [name, { count: s.count, sha256: splitChecksum(s) }])),
    mean: stats.mean,
    std: stats.std,
    importedAt: new Date().toISOString(),
  });

  fs.mkdirSync(path.dirname(target), { recursive: true });
  let tmp = '';
  try {
    tmp = tempPathInHome(home, `dataset-${draft.id}`);
    fs.mkdirSync(tmp);
    for (const [name, split] of Object.entries(splits)) {
      const files = splitFiles(tmp, name);
      fs.writeFileSync(files.images, split.images.subarray(0, split.count * IMAGE_VALUES));
      fs.writeFileSync(files.labels, split.labels.subarray(0, split.count));
    }
    // The manifest goes last: a folder without one is never taken for a data set.
    fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new DatasetError(`a data set with id '${draft.id}' already exists`);
      throw err;
    }
  } catch (err) {
    rethrowWriteFailure(err, `data set '${draft.id}' into ${homePaths(home).datasets}`, target, (m) => new DatasetError(m));
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
  return manifest;
}

export function readManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DatasetError(`${file}: cannot read the manifest (${(err as Error).message})`);
  }
  const parsed = DatasetManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DatasetError(`${file}: invalid manifest (${issue.path.join('.') || 'root'}: ${issue.message})`);
  }
  return parsed.data;
}

function readBytes(file: string): Uint8Array {
  const buf = fs.readFileSync(file);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Reads one split and checks its sizes and checksum against the manifest. */
export function readSplit(dir: string, manifest: DatasetManifest, name: string): Split {
  const entry = manifest.splits[name];
  if (!entry) throw new DatasetError(`data set '${manifest.id}' has no '${name}' split (it has: ${Object.keys(manifest.splits).join(', ')})`);
  const files = splitFiles(dir, name);
  let images: Uint8Array;
  let labels: Uint8Array;
  try {
    images = readBytes(files.images);
    labels = readBytes(files.labels);
  } catch (err) {
    throw new DatasetError(`data set '${manifest.id}': cannot read split '${name}' (${(err as Error).message})`);
  }
  if (images.length !== entry.count * IMAGE_VALUES || labels.length !== entry.count) {
    throw new DatasetError(
      `data set '${manifest.id}': split '${name}' has the wrong size on disk (expected ${entry.count} images); remove and import it again`,
    );
  }
  const split = { images, labels, count: entry.count };
  if (splitChecksum(split) !== entry.sha256) {
    throw new DatasetError(
      `data set '${manifest.id}': split '${name}' does not match its checksum (the files were changed or damaged); remove and import it again`,
    );
  }
  return split;
}

/** Just the labels of a split (no images, no checksum): for counts and previews. */
export function readLabels(dir: string, manifest: DatasetManifest, name: string): Uint8Array {
  const entry = manifest.splits[name];
  if (!entry) throw new DatasetError(`data set '${manifest.id}' has no '${name}' split (it has: ${Object.keys(manifest.splits).join(', ')})`);
  const labels = readBytes(splitFiles(dir, name).labels);
  if (labels.length !== entry.count) {
    throw new DatasetError(`data set '${manifest.id}': split '${name}' has the wrong size on disk; remove and import it again`);
  }
  return labels;
}

/** Reads the images at `indices` of a split with positioned reads (no need to load the whole split). */
export function readImagesAt(dir: string, name: string, indices: number[]): Uint8Array {
  const out = new Uint8Array(indices.length * IMAGE_VALUES);
  const fd = fs.openSync(splitFiles(dir, name).images, 'r');
  try {
    indices.forEach((idx, k) => {
      const got = fs.readSync(fd, out, k * IMAGE_VALUES, IMAGE_VALUES, idx * IMAGE_VALUES);
      if (got !== IMAGE_VALUES) throw new DatasetError(`split '${name}': image ${idx} is missing on disk; remove and import the data set again`);
    });
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
