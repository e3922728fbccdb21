// The study's folder on the cluster file system (--shared-dir), laid out like a data folder so the
// same helpers find its recipe and data set:
//   <shared>/datasets/<id>/                        the study's data set, shipped once
//   <shared>/studies/<name>/recipe.json            the recipe every task reads
//   <shared>/studies/<name>/logs/<job>_<index>.out what each array task printed
//   <shared>/studies/<name>/tasks/<cell>/home/     the task's own data folder (its run, checkpoints)
//   <shared>/studies/<name>/tasks/<cell>/marker.json, run.exitlab   its marker and its bundle
import * as fs from 'node:fs';
import * as path from 'node:path';
import { homePaths } from '../../home';
import { tempPathFor } from '../../temp-files';
import { writeFailureMessage } from '../../write-errors';
import { studyDirOf } from '../study-folder';
import { SlurmError } from './slurm-commands';

export const logsDirOf = (shared: string, name: string) => path.join(studyDirOf(shared, name), 'logs');
export const taskLogOf = (shared: string, name: string, job: string) => path.join(logsDirOf(shared, name), `${job}.out`);

export function taskPaths(shared: string, name: string, key: string) {
  const dir = path.join(studyDirOf(shared, name), 'tasks', key);
  return { dir, home: path.join(dir, 'home'), marker: path.join(dir, 'marker.json'), bundle: path.join(dir, 'run.exitlab') };
}

/**
 * Gives a task's data folder the shared data sets: a relative link, so that the shared directory
 * may be mounted at another path on the compute nodes than where it was written.
 */
export function linkSharedDatasets(shared: string, taskHome: string): void {
  const link = homePaths(taskHome).datasets;
  fs.mkdirSync(taskHome, { recursive: true });
  try {
    fs.symlinkSync(path.relative(taskHome, homePaths(shared).datasets), link, 'dir');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * The shared directory as the job script will name it: absolute, and without the characters that
 * `#SBATCH` lines and Slurm's file name patterns (%A, %a) would read otherwise. It must exist and
 * take a file: a read-only mount or a folder of another user is refused before anything is written.
 */
export function checkSharedDir(dir: string): string {
  const abs = path.resolve(dir);
  if (/[\s'"%\\$`]/.test(abs)) throw new SlurmError(`--shared-dir ${abs}: the path must not contain spaces, quotes, '%', '$', '\\' or '\`' (the job script names it in #SBATCH lines)`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new SlurmError(`--shared-dir ${abs} does not exist (it is the cluster file system folder the tasks share; create it first)`);
  }
  if (!stat.isDirectory()) throw new SlurmError(`--shared-dir ${abs} is not a folder`);
  const probe = tempPathFor(path.join(abs, '.exitlab-write-test'));
  try {
    fs.writeFileSync(probe, '');
  } catch (err) {
    throw new SlurmError(writeFailureMessage(err, `--shared-dir ${abs} is not writable`, probe));
  } finally {
    fs.rmSync(probe, { force: true });
  }
  return abs;
}
