// Slurm's own command-line tools are the only way ExitLab talks to a cluster: no service of ours
// runs there. Every call has a time limit, so a controller that does not answer is an error, not a hang.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StudyError } from '../study-folder';

/** A cluster that cannot be used as asked: one line for the user. */
export class SlurmError extends StudyError {}

export function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';

/** Runs a Slurm tool; a non-zero exit is an answer (the caller reads it), a tool that cannot run is a SlurmError. */
export function slurmCommand(command: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        const why = err.code === 'ENOENT' ? 'it is not on PATH' : err.killed ? `no answer within ${timeoutMs / 1000} s` : err.message;
        reject(new SlurmError(`cannot run ${command} ${args.join(' ')}: ${why}`));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}
