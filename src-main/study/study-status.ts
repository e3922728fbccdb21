// Where each cell of a study stands: read from the study's state, the run store and the runs'
// evaluation reports; nothing is written.
import type { RunDetail } from '../../src-shared/runs';
import type { StudyCell, StudyCellState, StudyRecipe } from '../../src-shared/study';
import type { EvaluationReport } from '../../src-shared/evaluation';
import type { RunStore } from '../store/run-store';
import { findStudyReport, studyEvalRequest } from './study-evaluation';
import { readStudyState } from './study-folder';

export interface StudyCellStatus {
  cell: StudyCell;
  runId: string | null;
  state: StudyCellState;
  detail: RunDetail | null;
  report: EvaluationReport | null;
}

const STATE_OF_RUN: Record<RunDetail['summary']['status'], StudyCellState> = {
  queued: 'pending', running: 'training', paused: 'paused', stopped: 'stopped', failed: 'failed', interrupted: 'interrupted', completed: 'trained',
};

export function studyStatus(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[]): StudyCellStatus[] {
  const state = readStudyState(home, recipe.name);
  return cells.map((cell) => {
    const runId = state.runs[cell.key] ?? null;
    if (runId === null || !store.hasRun(runId)) return { cell, runId, state: 'pending', detail: null, report: null };
    const detail = store.getRun(runId);
    const report = findStudyReport(home, studyEvalRequest(recipe, runId));
    const runState = STATE_OF_RUN[detail.summary.status];
    return { cell, runId, state: runState === 'trained' && report ? 'evaluated' : runState, detail, report };
  });
}

/** Seconds of training of a run: the sum of its epochs' engine time (null before its first epoch). */
export const trainingSeconds = (detail: RunDetail | null): number | null =>
  detail?.epochs.length ? detail.epochs.reduce((s, e) => s + e.seconds, 0) : null;
