// Where a run's files live in the data folder.
import * as path from 'node:path';
import { homePaths } from '../home';

export const runDirOf = (home: string, runId: string) => path.join(homePaths(home).runs, runId);

/** Folder of a run's evaluation reports. */
export const REPORTS_DIR = 'evaluations';

export { CHECKPOINT_FILES } from '../engine/train/checkpoint';

/** A path as stored: relative to the run folder when inside it, else absolute. */
export function storedPath(runDir: string, file: string): string {
  const rel = path.relative(runDir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

