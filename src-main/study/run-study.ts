// `study run`: the study's grid as a queue, one run at a time. Each cell is trained (or resumed, or
// skipped when finished), then evaluated with the study's attacks and its feature distance measured
// (each skipped when its report is there). A cell's run id is recorded before its run is created,
// so an interruption at any point resumes that run and never starts a second one. A failed cell
// does not stop the queue. A study submitted to Slurm is not run here as well: each run is trained
// in one place.
import type { EngineEvent } from '../../src-shared/engine-messages';
import { RESUMABLE_STATUSES, type RunStatus } from '../../src-shared/runs';
import type { StudyCell, StudyRecipe } from '../../src-shared/study';
import { newRunId, type RunOutcome } from '../engine/process/run-engine';
import { evaluateRun, type EvalProgressFn } from '../runs/evaluate-run';
import { findFeatureDistance, measureFeatureDistance } from '../runs/feature-distance-run';
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

/** Starts working through the study's cells in grid order. */
export function runStudy(service: RunService, recipe: StudyRecipe, cells: StudyCell[], hooks: StudyRunHooks = {}): StudyQueue {
  const { home, store } = service;
  if (readSlurmRecord(home, recipe.name)) {
    throw new StudyError(`study '${recipe.name}' runs on Slurm: continue it with \`exitlab study run ${recipe.name} --on slurm\`, ` +
      `and bring its runs here with \`exitlab study collect ${recipe.name}\``);
  }
  openStudyFolder(home, recipe);
  let stopping = false;
  let active: ActiveRun | null = null;

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
    if (!store.hasRun(runId)) {
      report('training');
      active = service.start(cell.config, { runId, name: `${recipe.name} · ${cell.label} · seed ${cell.seed}`, tags: [tagOf(recipe.name)], onEvent });
    } else {
      const status = store.getRun(runId).summary.status;
      if (status === 'completed') return status;
      if (!RESUMABLE_STATUSES.includes(status)) return `run ${runId} is ${status} in another process`;
      report('resuming', `from its last checkpoint (it was ${status})`);
      active = service.resume(runId, { onEvent });
    }
    const outcome: RunOutcome = await active.done;
    active = null;
    if (outcome.final.type === 'failed') return `${outcome.final.kind}: ${outcome.final.message}`;
    return outcome.final.status;
  };

  const done = (async (): Promise<StudyRunResult> => {
    const failed: StudyRunResult['failed'] = [];
    for (const [index, cell] of cells.entries()) {
      if (stopping) return { failed, stopped: true };
      const runId = runIdOf(cell);
      const report = (phase: CellPhase, message?: string) => hooks.onCell?.({ index, total: cells.length, cell, runId, phase, message });
      try {
        const status = await train(cell, runId, report);
        if (status === 'stopped') {
          report('stopped', 'stopped on a checkpoint; `exitlab study run` continues it');
          return { failed, stopped: true };
        }
        if (status !== 'completed') {
          failed.push({ key: cell.key, runId, message: status });
          report('failed', status);
          continue;
        }
        report('trained');
        const request = studyEvalRequest(recipe, runId);
        if (findStudyReport(home, request)) report('evaluated', 'already evaluated');
        else {
          if (stopping) return { failed, stopped: true };
          report('evaluating', recipe.eval.attacks.join(', '));
          await evaluateRun(home, store, request, (p) => hooks.onEvalProgress?.(cell, p));
          report('evaluated');
        }
        if (recipe.featureDistance && !findFeatureDistance(home, request)) {
          if (stopping) return { failed, stopped: true };
          report('measuring', 'clean-vs-adversarial feature distance per block (FGSM, PGD-20)');
          await measureFeatureDistance(home, store, request, (p) => hooks.onEvalProgress?.(cell, p));
        }
      } catch (err) {
        const message = (err as Error).message;
        failed.push({ key: cell.key, runId, message });
        report('failed', message);
      }
    }
    return { failed, stopped: false };
  })();

  return {
    done,
    stop: () => {
      stopping = true;
      active?.send({ type: 'stop' });
    },
  };
}
