// Every temporary file or folder ExitLab writes is named `<name>.tmp-<pid>-<random>`, beside its
// destination or under the data folder's tmp/. The pid lets a later start tell a dead writer's
// leftovers (a SIGKILL, a power loss) from a live writer's, and remove only the former.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { homePaths } from './home';
import { isProcessAlive } from './pids';
import { rethrowWriteFailure } from './write-errors';

const TEMP = /\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/** A temporary name for `target`, in the same folder (so the final rename stays on one file system). */
export const tempPathFor = (target: string): string => `${target}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;

/** Writes `file` whole or not at all (a temporary beside it, renamed into place); `what` names it in errors. */
export function writeFileAtomically(file: string, data: string | Uint8Array, what: string): void {
  const tmp = tempPathFor(file);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    rethrowWriteFailure(err, `${what} ${file}`, file);
  }
}

/** A temporary path under the data folder's tmp/ (created), labelled for whoever reads a listing. */
export function tempPathInHome(home: string, label: string): string {
  const root = homePaths(home).tmp;
  fs.mkdirSync(root, { recursive: true });
  return tempPathFor(path.join(root, label.replace(/[^A-Za-z0-9._-]/g, '_')));
}

/** Removes the temporaries in `dir` (named for `prefix`, when given) whose writer is no longer alive. */
export function removeStaleTemps(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = TEMP.exec(name)?.[1];
    if (!pid || !name.startsWith(prefix) || isProcessAlive(Number(pid))) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/** At start: what dead writers left in tmp/ and in every run folder and its subfolders (checkpoints, reports). */
export function removeStaleTempsInHome(home: string): string[] {
  const { tmp, runs } = homePaths(home);
  const removed = removeStaleTemps(tmp);
  let runIds: string[] = [];
  try {
    runIds = fs.readdirSync(runs);
  } catch {
    return removed;
  }
  for (const id of runIds) {
    const dir = path.join(runs, id);
    removed.push(...removeStaleTemps(dir));
    for (const sub of subfolders(dir)) removed.push(...removeStaleTemps(sub));
  }
  return removed;
}

function subfolders(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}
