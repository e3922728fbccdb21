// The Slurm side of `exitlab study`: `run --on slurm` (its sbatch options, the submission and what
// it prints), `collect`, and `task`, the command each array task runs.
import * as os from 'node:os';
import * as path from 'node:path';
import { SlurmOptionsSchema, type SlurmOptions } from '../../src-shared/slurm';
import type { StudyCell, StudyRecipe } from '../../src-shared/study';
import type { RunStore } from '../store/run-store';
import { BundleError } from '../runs/bundle';
import { collectStudy } from '../study/slurm/collect-study';
import { runStudyTask } from '../study/slurm/run-task';
import { readSlurmRecord } from '../study/slurm/slurm-record';
import { jobOfEnvironment, taskJobName } from '../study/slurm/task-marker';
import { checkSubmission, submitStudy } from '../study/slurm/submit-study';
import { StudyError, studyDirOf } from '../study/study-folder';
import { commandFailure, openStoreForCommand } from './command-kit';
import { UsageError } from './errors';
import { ProgressBar } from './progress';

export const SLURM_HELP = `  exitlab study run <recipe> --on slurm --shared-dir <dir> [sbatch options] [--dry-run]
                          submit every unfinished run of the grid as one Slurm job array (one task a
                          run: train, or resume from its checkpoint, then evaluate, then write a run
                          bundle); again later, it resubmits only the runs not finished (failed, timed
                          out, cancelled, never run)
      --shared-dir <dir>  a folder of the cluster file system, seen alike by this machine and the nodes
                          (default: the study's, after its first submission)
      --partition <p>  --time <t>  --cpus-per-task <n>  --mem <m>  --gres <g>  --gpus-per-task <n>
      --account <a>  --qos <q>     as sbatch takes them
      --sbatch-arg <opt>  any other sbatch option (repeat it), e.g. --sbatch-arg=--constraint=a100
      --dry-run           print the job script; submit nothing, write nothing of the study
  exitlab study collect <name> [--json]
                          import every finished task's bundle into this data folder, each once
  exitlab study task <name> --cell <run> --shared-dir <dir>
                          what one array task runs (the job script names it); by hand it runs the task here`;

export const SLURM_OPTIONS = {
  on: { type: 'string' }, 'shared-dir': { type: 'string' }, 'dry-run': { type: 'boolean' }, cell: { type: 'string' },
  partition: { type: 'string' }, time: { type: 'string' }, 'cpus-per-task': { type: 'string' }, mem: { type: 'string' },
  gres: { type: 'string' }, 'gpus-per-task': { type: 'string' }, account: { type: 'string' }, qos: { type: 'string' },
  'sbatch-arg': { type: 'string', multiple: true },
} as const;

type SlurmValues = {
  [K in keyof typeof SLURM_OPTIONS]?: (typeof SLURM_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof SLURM_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string
};

const FLAG_OF: Record<keyof SlurmOptions, keyof SlurmValues> = {
  partition: 'partition', time: 'time', cpusPerTask: 'cpus-per-task', mem: 'mem', gres: 'gres', gpusPerTask: 'gpus-per-task',
  account: 'account', qos: 'qos', sbatchArgs: 'sbatch-arg',
};
const SUBMIT_ONLY = [...Object.values(FLAG_OF), 'shared-dir', 'dry-run'] as const;

/** Whether `run` goes to Slurm; Slurm's flags without `--on slurm` are refused rather than ignored. */
export function onSlurm(v: SlurmValues): boolean {
  if (v.on !== undefined && v.on !== 'slurm' && v.on !== 'local') throw new UsageError(`--on must be slurm or local, got '${v.on}'`);
  const stray = SUBMIT_ONLY.find((f) => v[f] !== undefined);
  if (v.on !== 'slurm' && stray) throw new UsageError(`--${stray} is an option of \`study run … --on slurm\``);
  return v.on === 'slurm';
}

function slurmOptionsOf(v: SlurmValues): SlurmOptions {
  const cpus = v['cpus-per-task'];
  if (cpus !== undefined && !/^\d+$/.test(cpus)) throw new UsageError(`--cpus-per-task must be a whole number, got '${cpus}'`);
  const parsed = SlurmOptionsSchema.safeParse({
    partition: v.partition, time: v.time, cpusPerTask: cpus === undefined ? undefined : Number(cpus), mem: v.mem, gres: v.gres,
    gpusPerTask: v['gpus-per-task'], account: v.account, qos: v.qos, sbatchArgs: v['sbatch-arg'] ?? [],
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(`--${FLAG_OF[issue.path[0] as keyof SlurmOptions]}: ${issue.message}`);
}

export async function submitCommand(home: string, recipe: StudyRecipe, cells: StudyCell[], v: SlurmValues & { json?: boolean }): Promise<number> {
  const options = slurmOptionsOf(v);
  const sharedDir = v['shared-dir'] ?? readSlurmRecord(home, recipe.name)?.sharedDir;
  if (!sharedDir) throw new UsageError('--on slurm needs --shared-dir <dir>: a folder of the cluster file system the tasks share');
  let store: RunStore | null = null;
  try {
    const checked = await checkSubmission(home, recipe, { sharedDir, options, dryRun: v['dry-run'] ?? false });
    store = openStoreForCommand(home);
    const r = await submitStudy(home, store, recipe, cells, checked);
    const keys = r.indices.map((i) => cells[i].key);
    if (v.json) {
      console.log(JSON.stringify({
        type: v['dry-run'] ? 'dry-run' : 'submitted', jobId: r.jobId, indices: r.indices, cells: keys, scriptFile: r.scriptFile, script: r.script,
        dataset: r.dataset, finished: r.finished, queued: r.queued,
      }));
      return 0;
    }
    const others = [
      r.finished.length ? `finished: ${r.finished.join(', ')}` : '',
      r.queued.length ? `in Slurm's queue: ${r.queued.join(', ')}` : '',
    ].filter(Boolean).join('; ');
    if (!r.script) {
      console.log(`study ${recipe.name}: nothing to submit (${others})`);
      return 0;
    }
    if (v['dry-run']) {
      console.log(r.script.trimEnd());
      process.stderr.write(
        `dry run: would submit ${keys.length} run(s) (${keys.join(', ')})${others ? `; ${others}` : ''}; nothing of the study was written or submitted\n`,
      );
      return 0;
    }
    if (r.dataset) console.log(`data set '${recipe.dataset}': ${r.dataset.shipped ? 'shipped to' : 'already in'} ${r.dataset.dir} (checksums checked)`);
    console.log(`study ${recipe.name}: submitted job ${r.jobId}, ${keys.length} task(s): ` +
      `${keys.map((k, i) => `${r.jobId}_${r.indices[i]} ${k}`).join(', ')}${others ? `; ${others}` : ''}`);
    console.log(`script: ${r.scriptFile}`);
    console.log(`follow it with \`exitlab study status ${recipe.name}\`; bring the runs home with \`exitlab study collect ${recipe.name}\``);
    return 0;
  } catch (err) {
    throw commandFailure(err, [StudyError]);
  } finally {
    store?.close();
  }
}

export function collectCommand(store: RunStore, home: string, recipe: StudyRecipe, cells: StudyCell[], json: boolean): number {
  const r = collectStudy(home, store, recipe, cells);
  if (json) console.log(JSON.stringify(r));
  else {
    console.log(`study ${recipe.name}: imported ${r.imported.length} run(s)` +
      `${r.imported.length ? `: ${r.imported.map((i) => `${i.key} (run ${i.runId})`).join(', ')}` : ''}`);
    if (r.alreadyCollected.length) console.log(`collected before: ${r.alreadyCollected.join(', ')}`);
    if (r.waiting.length) console.log(`not finished yet: ${r.waiting.join(', ')}`);
    for (const s of r.skipped) console.error(`skipped ${s.key}: ${s.reason}`);
  }
  return r.skipped.length ? 1 : 0;
}

export async function taskCommand(name: string | undefined, v: SlurmValues): Promise<number> {
  if (!name || !v.cell || !v['shared-dir']) throw new UsageError('usage: exitlab study task <name> --cell <run> --shared-dir <dir>');
  const shared = path.resolve(v['shared-dir']);
  const say = (line: string) => console.log(`[${new Date().toISOString()}] ${line}`);
  const bar = new ProgressBar(process.stdout);
  const job = jobOfEnvironment();
  say(`study ${name}, run ${v.cell}${job ? `, job ${taskJobName(job)} on ${os.hostname()}` : ' (not in a Slurm job)'}; folder ${studyDirOf(shared, name)}`);
  try {
    return await runStudyTask(shared, name, v.cell, { say, onEngineEvent: (e) => bar.onEvent(e) });
  } catch (err) {
    throw commandFailure(err, [StudyError, BundleError]);
  }
}
