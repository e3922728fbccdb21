// `study run --on slurm`: the study's unfinished cells as one job array. Everything is checked
// first (Slurm's tools, the partition, the shared directory, the recipe on both sides, then the
// runs here and the task states of an earlier submission), so a problem stops it before anything is
// written or submitted.
// Then the recipe and the data set go to the shared directory, the script to the study folder, and
// sbatch gets it; the submission is recorded so that status and collect find its tasks.
import * as fs from 'node:fs';
import type { SlurmOptions } from '../../../src-shared/slurm';
import type { StudyCell, StudyRecipe } from '../../../src-shared/study';
import type { RunStore } from '../../store/run-store';
import { writeFileAtomically } from '../../temp-files';
import { checkSameRecipe, openStudyFolder } from '../study-folder';
import { studyStatus } from '../study-status';
import { jobScript } from './job-script';
import { checkCluster, checkRepo } from './preflight';
import { checkSharedDir, logsDirOf } from './shared-dir';
import { shipDataset } from './ship-dataset';
import { firstLine, slurmCommand, SlurmError } from './slurm-commands';
import { jobScriptFile, readSlurmRecord, writeSlurmRecord } from './slurm-record';
import { RESUBMITTED_STATES, slurmCells } from './task-states';

export interface SubmitRequest {
  sharedDir: string;
  options: SlurmOptions;
  /** Print the script, write and submit nothing. */
  dryRun: boolean;
}

export interface SubmitResult {
  /** The job script; null when no cell needs a task. */
  script: string | null;
  scriptFile: string | null;
  /** Grid indices in the job array (submitted, or that would be on a dry run). */
  indices: number[];
  jobId: string | null;
  dataset: { dir: string; shipped: boolean } | null;
  /** Cells that need no task: finished (collected, or a bundle waiting to be) or in Slurm's queue. */
  finished: string[];
  queued: string[];
}

/** A submission whose cluster, shared directory, checkout and recipe have been checked. */
export interface CheckedSubmission extends SubmitRequest {
  shared: string;
  repo: string;
}

/** Every check that needs neither the run store nor Slurm's queue; throws SlurmError or StudyError, writing nothing. */
export async function checkSubmission(home: string, recipe: StudyRecipe, request: SubmitRequest): Promise<CheckedSubmission> {
  const recorded = readSlurmRecord(home, recipe.name)?.sharedDir;
  const shared = checkSharedDir(request.sharedDir);
  if (recorded && recorded !== shared) {
    throw new SlurmError(
      `study '${recipe.name}' runs in the shared directory ${recorded} (its tasks' runs and checkpoints are there): pass --shared-dir ${recorded}`,
    );
  }
  await checkCluster(request.options);
  const repo = checkRepo();
  checkSameRecipe(home, recipe);
  checkSameRecipe(shared, recipe);
  return { ...request, shared, repo };
}

export async function submitStudy(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[], request: CheckedSubmission): Promise<SubmitResult> {
  const { name } = recipe;
  const { shared, repo } = request;
  const record = readSlurmRecord(home, name);
  const local = studyStatus(home, store, recipe, cells);
  const localRuns = local.filter((s) => s.detail && s.state !== 'evaluated');
  if (localRuns.length) {
    throw new SlurmError(`run(s) ${localRuns.map((s) => s.cell.key).join(', ')} of study '${name}' were started in this data folder and are not finished: `
      + `finish them with \`exitlab study run ${name}\` first (a run is trained in one place)`);
  }
  const tasks = record ? (await slurmCells(home, store, recipe, cells))!.cells : null;
  const finished: string[] = [];
  const queued: string[] = [];
  const indices: number[] = [];
  cells.forEach((cell, i) => {
    if (local[i].state === 'evaluated' || tasks?.[i].state === 'completed') finished.push(cell.key);
    else if (tasks && !RESUBMITTED_STATES.includes(tasks[i].state)) queued.push(cell.key);
    else indices.push(i);
  });
  const none = { script: null, scriptFile: null, indices, jobId: null, dataset: null, finished, queued };
  if (!indices.length) return none;
  const script = jobScript({ recipe, cells, indices, shared, repo, options: request.options });
  if (request.dryRun) return { ...none, script };

  openStudyFolder(home, recipe);
  openStudyFolder(shared, recipe);
  const dataset = shipDataset(home, shared, recipe.dataset);
  fs.mkdirSync(logsDirOf(shared, name), { recursive: true });
  const scriptFile = jobScriptFile(home, name);
  writeFileAtomically(scriptFile, script, 'the job script');
  const r = await slurmCommand('sbatch', ['--parsable', scriptFile]);
  const jobId = r.stdout.trim().split(';')[0];
  if (r.code !== 0 || !/^\d+$/.test(jobId)) throw new SlurmError(`sbatch refused the job: ${firstLine(r.stderr) || firstLine(r.stdout) || `exit code ${r.code}`} (script ${scriptFile})`);
  writeSlurmRecord(home, name, {
    formatVersion: 1, sharedDir: shared, repo,
    submissions: [...(record?.submissions ?? []), { jobId, submittedAt: new Date().toISOString(), indices, options: request.options }],
  });
  return { script, scriptFile, indices, jobId, dataset, finished, queued };
}
