// `study collect`: every finished task's bundle imported into this data folder, once. A bundle is
// taken only when its task's marker says complete (written after the bundle was whole) and its
// SHA-256 matches the marker's; the import itself (runs/bundle.ts) checks every file before it
// writes anything and moves the run in with one rename. The study's state then maps the cell to the
// imported run, written after each import, so a collect stopped halfway loses nothing and a second
// one imports nothing twice.
import * as path from 'node:path';
import type { StudyCollectResult } from '../../../src-shared/slurm';
import type { StudyCell, StudyRecipe } from '../../../src-shared/study';
import { BundleError, importBundle } from '../../runs/bundle';
import type { RunStore } from '../../store/run-store';
import { readStudyState, StudyError, writeStudyState } from '../study-folder';
import { readSlurmRecord } from './slurm-record';
import { taskPaths } from './shared-dir';
import { readTaskMarker } from './task-marker';

export function collectStudy(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[]): StudyCollectResult {
  const record = readSlurmRecord(home, recipe.name);
  if (!record) {
    throw new StudyError(`study '${recipe.name}' was not run on Slurm: there is nothing to collect (\`exitlab study run ${recipe.name} --on slurm\`)`);
  }
  const result: StudyCollectResult = { imported: [], alreadyCollected: [], skipped: [], waiting: [] };
  const mapCell = (key: string, runId: string) => {
    const state = readStudyState(home, recipe.name);
    writeStudyState(home, recipe.name, { ...state, runs: { ...state.runs, [key]: runId } });
  };
  for (const cell of cells) {
    const known = readStudyState(home, recipe.name).runs[cell.key];
    if (known && store.hasRun(known)) {
      result.alreadyCollected.push(cell.key);
      continue;
    }
    const paths = taskPaths(record.sharedDir, recipe.name, cell.key);
    let marker;
    try {
      marker = readTaskMarker(paths.marker);
    } catch (err) {
      if (!(err instanceof StudyError)) throw err;
      result.skipped.push({ key: cell.key, reason: err.message });
      continue;
    }
    if (marker?.state !== 'completed') {
      result.waiting.push(cell.key);
      continue;
    }
    // An earlier collect imported it and stopped before writing the state.
    if (store.hasRun(marker.runId)) {
      mapCell(cell.key, marker.runId);
      result.alreadyCollected.push(cell.key);
      continue;
    }
    try {
      const { runId } = importBundle(home, store, path.join(paths.dir, path.basename(marker.bundle.file)), marker.bundle.sha256);
      mapCell(cell.key, runId);
      result.imported.push({ key: cell.key, runId });
    } catch (err) {
      if (!(err instanceof BundleError)) throw err;
      result.skipped.push({ key: cell.key, reason: err.message });
    }
  }
  return result;
}
