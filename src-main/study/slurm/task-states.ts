// Where each cell's latest array task stands. Slurm is asked first: `scontrol show job` knows
// pending, running and recently ended jobs, and `sacct` older ones where the cluster keeps
// accounting. Past both (a cluster without slurmdbd forgets a job minutes after it ends), the task's
// own marker and the line slurmstepd writes into its log tell how it ended.
import * as fs from 'node:fs';
import type { SlurmCell, SlurmStudyRecord, TaskMarker } from '../../../src-shared/slurm';
import type { StudyCell, StudyRecipe } from '../../../src-shared/study';
import type { RunStore } from '../../store/run-store';
import { readStudyState, StudyError } from '../study-folder';
import { findOnPath, firstLine, slurmCommand, SlurmError } from './slurm-commands';
import { endInLog, parseSacct, parseScontrolJobs, taskStateOf, type SlurmTaskRecord } from './slurm-parse';
import { readSlurmRecord, recordedJobOf } from './slurm-record';
import { taskLogOf, taskPaths } from './shared-dir';
import { readTaskMarker, taskJobName } from './task-marker';

interface Reported {
  word: string;
  reason: string | null;
  source: 'slurm' | 'accounting';
}

const byTask = (records: SlurmTaskRecord[], source: Reported['source'], into: Map<string, Reported>) => {
  for (const r of records) for (const i of r.indices) into.set(`${r.arrayJobId}_${i}`, { word: r.state, reason: r.reason, source });
};

async function askController(arrayJobIds: string[], into: Map<string, Reported>): Promise<void> {
  for (const id of arrayJobIds) {
    const r = await slurmCommand('scontrol', ['-o', 'show', 'job', id]);
    if (r.code !== 0 && /invalid job id/i.test(r.stderr)) continue;
    if (r.code !== 0) throw new SlurmError(`scontrol cannot tell the state of job ${id}: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
    byTask(parseScontrolJobs(r.stdout), 'slurm', into);
  }
}

/** Jobs the controller has forgotten, from accounting where the cluster keeps it; else why not. */
async function askAccounting(arrayJobIds: string[], into: Map<string, Reported>): Promise<string | null> {
  if (!arrayJobIds.length) return null;
  if (!findOnPath('sacct')) return 'sacct is not installed';
  const r = await slurmCommand('sacct', ['-n', '-P', '-X', '-o', 'JobID,State', '-j', arrayJobIds.join(',')]);
  if (r.code !== 0) return `no accounting (sacct: ${firstLine(r.stderr) || `exit code ${r.code}`})`;
  byTask(parseSacct(r.stdout), 'accounting', into);
  return null;
}

export interface CellFacts {
  /** The cell's latest task, `<array job>_<index>`. */
  job: string | null;
  marker: TaskMarker | null;
  reported: Reported | null;
  /** The task's log (read only when Slurm has nothing to say). */
  readLog: () => string | null;
  collected: boolean;
  /** Why accounting could not be asked, when it could not. */
  accounting: string | null;
  /** The controller still knows the task's array job (other tasks of it). */
  arrayKnown: boolean;
}

/** One cell's state from what is known of it; pure, so every case is tested on its own. */
export function resolveCell(f: CellFacts): SlurmCell {
  const mine = f.marker?.job && taskJobName(f.marker.job) === f.job ? f.marker : null;
  const at = (state: SlurmCell['state'], source: SlurmCell['source'], detail: string): SlurmCell => ({
    state, job: f.job, source, detail, collected: f.collected, epochsDone: mine?.state === 'running' ? mine.epochsDone : null,
  });
  const finished = f.marker?.state === 'completed' ? f.marker : null;
  if (f.reported) {
    const state = taskStateOf(f.reported.word);
    const detail = `${f.reported.word}${f.reported.reason ? ` (${f.reported.reason})` : ''}`;
    if (state === 'completed' && !finished) return at('failed', f.reported.source, `${detail}, but it left no finished bundle`);
    return at(state, f.reported.source, detail);
  }
  if (finished) return at('completed', 'marker', `its bundle is ready (run ${finished.runId})`);
  if (!f.job) return at('not-submitted', 'none', 'never submitted');
  const ended = endInLog(f.readLog() ?? '');
  if (ended) return at(ended.state, 'marker', ended.detail);
  const forgotten = `Slurm no longer knows job ${f.job}${f.accounting ? ` (${f.accounting})` : ''}`;
  if (mine?.state === 'failed') return at('failed', 'marker', mine.message);
  if (mine?.state === 'stopped') return at('unknown', 'marker', `stopped by a signal; ${forgotten} and the log does not say why`);
  if (mine?.state === 'running') return at('failed', 'marker', `it ended without finishing its marker (killed?); ${forgotten}`);
  // A pending task that scancel removes leaves no record of its own, only a gap in its array.
  if (!mine && f.arrayKnown) return at('cancelled', 'slurm', 'removed from the queue before it started (scancel)');
  return at('unknown', 'none', `${forgotten}, and the task left no marker of it (cancelled before it started?)`);
}

/** States a second `study run --on slurm` submits again. */
export const RESUBMITTED_STATES: ReadonlyArray<SlurmCell['state']> = ['not-submitted', 'failed', 'timed-out', 'cancelled', 'unknown'];

/** A marker's job wins over the recorded one when it is newer: the script was submitted again by hand. */
function latestJob(record: SlurmStudyRecord, index: number, marker: TaskMarker | null): string | null {
  const recorded = recordedJobOf(record, index)?.submission.jobId;
  const byHand = marker?.job?.taskId === String(index) ? marker.job.arrayJobId : undefined;
  const newest = [recorded, byHand].filter((j): j is string => j !== undefined).sort((a, b) => Number(a) - Number(b)).pop();
  return newest === undefined ? null : `${newest}_${index}`;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export interface SlurmCells {
  record: SlurmStudyRecord;
  cells: SlurmCell[];
}

/**
 * Every cell's task state, or null for a study never submitted to Slurm. Throws SlurmError when the
 * controller cannot be asked: a state guessed then could submit a task that is still running.
 */
export async function slurmCells(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[]): Promise<SlurmCells | null> {
  const record = readSlurmRecord(home, recipe.name);
  if (!record) return null;
  const state = readStudyState(home, recipe.name);
  const collected = (key: string) => state.runs[key] !== undefined && store.hasRun(state.runs[key]);
  const markers = cells.map((cell) => {
    try {
      return { marker: readTaskMarker(taskPaths(record.sharedDir, recipe.name, cell.key).marker), problem: null };
    } catch (err) {
      if (err instanceof StudyError) return { marker: null, problem: err.message };
      throw err;
    }
  });
  const jobs = cells.map((_, i) => latestJob(record, i, markers[i].marker));
  const arrayJobIds = [...new Set(jobs.filter((j): j is string => j !== null).map((j) => j.split('_')[0]))];
  const reported = new Map<string, Reported>();
  await askController(arrayJobIds, reported);
  const knownArrays = new Set([...reported.keys()].map((k) => k.split('_')[0]));
  const forgotten = arrayJobIds.filter((id) => jobs.some((j) => j?.startsWith(`${id}_`) && !reported.has(j)));
  const accounting = await askAccounting(forgotten, reported);
  return {
    record,
    cells: cells.map((cell, i) => {
      const job = jobs[i];
      const resolved = resolveCell({
        job, marker: markers[i].marker, reported: job ? reported.get(job) ?? null : null, accounting,
        arrayKnown: job !== null && knownArrays.has(job.split('_')[0]),
        readLog: () => (job ? readText(taskLogOf(record.sharedDir, recipe.name, job)) : null),
        collected: collected(cell.key),
      });
      return markers[i].problem ? { ...resolved, detail: `${resolved.detail}; ${markers[i].problem}` } : resolved;
    }),
  };
}

/** For showing only: where Slurm cannot be asked (no scontrol here), every cell is 'unknown' with the reason, rather than an error. */
export async function slurmCellsToShow(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[]): Promise<SlurmCells | null> {
  try {
    return await slurmCells(home, store, recipe, cells);
  } catch (err) {
    if (!(err instanceof SlurmError)) throw err;
    const state = readStudyState(home, recipe.name);
    return {
      record: readSlurmRecord(home, recipe.name)!,
      cells: cells.map((c) => ({
        state: 'unknown', job: null, source: 'none', detail: err.message, collected: state.runs[c.key] !== undefined && store.hasRun(state.runs[c.key]),
        epochsDone: null,
      })),
    };
  }
}
