// The study's data set, shipped once to the shared directory: copied into a temporary folder there,
// checked split by split against the manifest's SHA-256, then renamed into place, so a task never
// reads a half-copied set. A copy already there is checked the same way and kept when it matches.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetManifest } from '../../../src-shared/datasets';
import { locateDataset } from '../../datasets/catalog';
import { DatasetError } from '../../datasets/errors';
import { datasetDir, MANIFEST_FILE, readManifest, readSplit } from '../../datasets/store';
import { tempPathInHome } from '../../temp-files';
import { rethrowWriteFailure } from '../../write-errors';
import { SlurmError } from './slurm-commands';

const sameSplits = (a: DatasetManifest, b: DatasetManifest) => JSON.stringify(a.splits) === JSON.stringify(b.splits);

function checkCopy(dir: string, manifest: DatasetManifest): void {
  try {
    for (const split of Object.keys(manifest.splits)) readSplit(dir, manifest, split);
  } catch (err) {
    if (err instanceof DatasetError) throw new SlurmError(`the copy of data set '${manifest.id}' in ${dir} is damaged: ${err.message}`);
    throw err;
  }
}

/** The data set's folder in the shared directory; `shipped` says whether it was copied this time. */
export function shipDataset(home: string, shared: string, id: string): { dir: string; shipped: boolean } {
  const { dir: source, manifest } = locateDataset(home, id);
  const target = datasetDir(shared, id);
  if (fs.existsSync(path.join(target, MANIFEST_FILE))) {
    const there = readManifest(target);
    if (!sameSplits(there, manifest)) {
      throw new SlurmError(`${target} holds another data set named '${id}' (its checksums differ from this data folder's): ` +
        'remove it from the shared directory, or import this one under another id');
    }
    checkCopy(target, there);
    return { dir: target, shipped: false };
  }
  const tmp = tempPathInHome(shared, `dataset-${id}`);
  try {
    fs.cpSync(source, tmp, { recursive: true });
    checkCopy(tmp, manifest);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err instanceof SlurmError) throw err;
    rethrowWriteFailure(err, `data set '${id}' into ${path.dirname(target)}`, target, (m) => new SlurmError(m));
  }
  return { dir: target, shipped: true };
}
