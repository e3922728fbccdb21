// What `study run --on slurm` checks before it writes or submits anything: Slurm's tools on PATH, the
// partition known to the controller, and a built checkout for the tasks to run. (The shared
// directory is checked by shared-dir.ts.) Each failure is one sentence saying what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SlurmOptions } from '../../../src-shared/slurm';
import { appRoot } from '../../app-root';
import { findOnPath, firstLine, slurmCommand, SlurmError } from './slurm-commands';

const TOOLS = ['sbatch', 'scontrol'] as const;

async function partitions(): Promise<string[]> {
  const r = await slurmCommand('scontrol', ['-o', 'show', 'partition']);
  return r.code === 0 ? [...r.stdout.matchAll(/(?:^|\n)PartitionName=(\S+)/g)].map((m) => m[1]) : [];
}

export async function checkCluster(options: SlurmOptions): Promise<void> {
  for (const tool of TOOLS) {
    if (!findOnPath(tool)) throw new SlurmError(`${tool} is not on PATH: run this where Slurm's client commands are (a login node of the cluster)`);
  }
  if (options.partition === undefined) return;
  const r = await slurmCommand('scontrol', ['-o', 'show', 'partition', options.partition]);
  if (r.code === 0 && r.stdout.includes(`PartitionName=${options.partition} `)) return;
  // scontrol 22.05 says "Partition x not found" on stdout.
  if (r.code !== 0 && !/not found/i.test(r.stdout + r.stderr)) throw new SlurmError(`scontrol cannot list the partitions: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
  const known = await partitions();
  throw new SlurmError(`unknown partition '${options.partition}' (partitions: ${known.join(', ') || 'none'})`);
}

/** The checkout the tasks run, absolute; it must be built, since the tasks start bin/exitlab.js. */
export function checkRepo(): string {
  const repo = appRoot().root;
  if (!fs.existsSync(path.join(repo, 'dist', 'src-main', 'cli', 'main.js'))) {
    throw new SlurmError(`${repo} is not built: run \`npm run build\` there first (the tasks run ${path.join(repo, 'bin', 'exitlab.js')})`);
  }
  return repo;
}
