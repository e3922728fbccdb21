// `study run`: the study's grid as a queue, one run at a time or several side by side (`parallel`
// lanes, each taking the next cell). Each cell is trained (or resumed, or skipped when finished),
// then evaluated with the study's attacks and its feature distance measured (each skipped when its
// report is there, each in a child process). A cell's run id is recorded before its run is created,
// so an interruption at any point resumes that run and never starts a second one. A failed cell
// does not stop the queue. A study submitted to Slurm is not run here as well: each run is trained
// in one place.
import type { EngineEvent } from '../../src-shared/engine-messages';
import { RESUMABLE_STATUSES, type RunStatus } from '../../src-shared/runs';
import type { StudyCell, StudyRecipe } from '../../src-shared/study';
import { newRunId, type RunOutcome } from '../engine/process/run-engine';
import * as os from 'node:os';
import { prepareEvaluation, type EvalProgressFn } from '../runs/evaluate-run';
import type { PreparedEvaluation } from '../runs/eval-setup';
import { computeEvaluationInChild, measureFeatureDistanceInChild, type ChildJob } from '../runs/eval-child';
import { recordEvaluation } from '../runs/eval-record';
import { findFeatureDistance } from '../runs/feature-distance-run';
import { withResolvedWorkers } from '../engine/parallel/shards';
import type { RunService, ActiveRun } from '../runs/service';
import { findStudyReport, studyEvalRequest } from './study-evaluation';
import { openStudyFolder, readStudyState, StudyError, writeStudyState } from './study-folder';
import { readSlurmRecord } from './slurm/slurm-record';

export type CellPhase = 'training' | 'resuming' | 'trained' | 'evaluating' | 'evaluated' | 'measuring' | 'failed' | 'stopped';

export interface StudyProgress {
  index: number;
  total: number;
  cell: StudyCell;
  runId: string;
  phase: CellPhase;
  message?: string;
}

export interface StudyRunHooks {
  onCell?: (p: StudyProgress) => void;
  onEngineEvent?: (cell: StudyCell, event: EngineEvent) => void;
  onEvalProgress?: (cell: StudyCell, ...p: Parameters<EvalProgressFn>) => void;
}

export interface StudyRunResult {
  /** Cells whose training or evaluation failed this time (a later `study run` retries them). */
  failed: Array<{ key: string; runId: string; message: string }>;
  /** True when stop() ended the queue before its end. */
  stopped: boolean;
}

export interface StudyQueue {
  done: Promise<StudyRunResult>;
  /** Stops the run in training on a checkpoint and starts no further cell. */
  stop(): void;
}

const tagOf = (name: string) => `study:${name}`;

export interface StudyRunOptions {
  /**
   * Runs trained at the same time (default 1), each lane taking the next cell of the grid. A run
   * whose configuration leaves `workers` to the machine, and an evaluation that does, get their
   * lane's share of the cores.
   */
  parallel?: number;
  /** Cores to share out (default: this machine's). */
  cores?: number;
}

/** Starts working through the study's cells in grid order, `parallel` at a time. */
export function runStudy(
  service: RunService, recipe: StudyRecipe, cells: StudyCell[], hooks: StudyRunHooks = {}, options: StudyRunOptions = {},
): StudyQueue {
  const { home, store } = service;
  if (readSlurmRecord(home, recipe.name)) {
    throw new StudyError(`study '${recipe.name}' runs on Slurm: continue it with \`exitlab study run ${recipe.name} --on slurm\`, ` +
      `and bring its runs here with \`exitlab study collect ${recipe.name}\``);
  }
  openStudyFolder(home, recipe);
  const lanes = Math.max(1, Math.min(options.parallel ?? 1, cells.length));
  const cores = Math.max(1, Math.floor((options.cores ?? os.availableParallelism()) / lanes));
  let stopping = false;
  const active = new Set<ActiveRun>();
  const children = new Set<ChildJob<unknown>>();

  const runIdOf = (cell: StudyCell): string => {
    const state = readStudyState(home, recipe.name);
    const known = state.runs[cell.key];
    if (known) return known;
    const runId = newRunId();
    writeStudyState(home, recipe.name, { ...state, runs: { ...state.runs, [cell.key]: runId } });
    return runId;
  };

  /** Trains the cell's run to its end; the final status, or the reason it did not complete. */
  const train = async (cell: StudyCell, runId: string, report: (phase: CellPhase, message?: string) => void): Promise<RunStatus | string> => {
    const onEvent = (event: EngineEvent) => hooks.onEngineEvent?.(cell, event);
    let run: ActiveRun;
    if (!store.hasRun(runId)) {
      report('training');
      const config = withResolvedWorkers(cell.config, cores);
      run = service.start(config, { runId, name: `${recipe.name} · ${cell.label} · seed ${cell.seed}`, tags: [tagOf(recipe.name)], onEvent });
    } else {
      const status = store.getRun(runId).summary.status;
      if (status === 'completed') return status;
      if (!RESUMABLE_STATUSES.includes(status)) return `run ${runId} is ${status} in another process`;
      report('resuming', `from its last checkpoint (it was ${status})`);
      run = service.resume(runId, { onEvent });
    }
    active.add(run);
    const outcome: RunOutcome = await run.done.finally(() => active.delete(run));
    if (outcome.final.type === 'failed') return `${outcome.final.kind}: ${outcome.final.message}`;
    return outcome.final.status;
  };

  /**
   * Evaluation and feature distance run in child processes: this process keeps serving the other
   * lanes' runs (their events, their heartbeats) meanwhile.
   */
  const inChild = async <T>(job: ChildJob<T>): Promise<T> => {
    children.add(job);
    try {
      return await job.done;
    } finally {
      children.delete(job);
    }
  };

  /** One cell: trained, evaluated, measured; false when the study was stopped during it. */
  const runCell = async (index: number, failed: StudyRunResult['failed']): Promise<boolean> => {
    const cell = cells[index];
    const runId = runIdOf(cell);
    const report = (phase: CellPhase, message?: string) => hooks.onCell?.({ index, total: cells.length, cell, runId, phase, message });
    const onProgress: EvalProgressFn = (p) => hooks.onEvalProgress?.(cell, p);
    try {
      const status = await train(cell, runId, report);
      if (status === 'stopped') {
        report('stopped', 'stopped on a checkpoint; `exitlab study run` continues it');
        return false;
      }
      if (status !== 'completed') {
        failed.push({ key: cell.key, runId, message: status });
        report('failed', status);
        return true;
      }
      report('trained');
      const request = studyEvalRequest(recipe, runId);
      let prepared: PreparedEvaluation | null = null;
      const preparedOnce = () => (prepared ??= prepareEvaluation(home, store, request));
      if (findStudyReport(home, request)) report('evaluated', 'already evaluated');
      else {
        if (stopping) return false;
        report('evaluating', recipe.eval.attacks.join(', '));
        const evaluation = await inChild(computeEvaluationInChild(home, preparedOnce(), onProgress, cores));
        recordEvaluation(home, store, evaluation);
        report('evaluated');
      }
      if (recipe.featureDistance && !findFeatureDistance(home, request)) {
        if (stopping) return false;
        report('measuring', 'clean-vs-adversarial feature distance per block (FGSM, PGD-20)');
        await inChild(measureFeatureDistanceInChild(home, preparedOnce(), onProgress));
      }
    } catch (err) {
      if (stopping) return false;
      const message = (err as Error).message;
      failed.push({ key: cell.key, runId, message });
      report('failed', message);
    }
    return true;
  };

  const stop = () => {
    stopping = true;
    for (const run of active) run.send({ type: 'stop' });
    for (const child of children) child.cancel();
  };

  const done = (async (): Promise<StudyRunResult> => {
    const failed: StudyRunResult['failed'] = [];
    let next = 0;
    const lane = async () => {
      while (!stopping && next < cells.length) {
        // A cell stopped in one lane stops the study: the others stop theirs on a checkpoint too.
        if (!(await runCell(next++, failed))) stop();
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    return { failed, stopped: stopping };
  })();

  return { done, stop };
}
