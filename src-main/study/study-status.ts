// Where each cell of a study stands: read from the study's state, the run store and the runs'
// evaluation reports; nothing is written.
import type { RunDetail } from '../../src-shared/runs';
import type { StudyCell, StudyCellState, StudyRecipe } from '../../src-shared/study';
import type { EvaluationReport } from '../../src-shared/evaluation';
import type { FeatureDistanceReport } from '../../src-shared/feature-distance';
import { findFeatureDistance } from '../runs/feature-distance-run';
import type { RunStore } from '../store/run-store';
import { findStudyReport, studyEvalRequest } from './study-evaluation';
import { readStudyState } from './study-folder';

export interface StudyCellStatus {
  cell: StudyCell;
  runId: string | null;
  state: StudyCellState;
  detail: RunDetail | null;
  report: EvaluationReport | null;
  /** The run's feature-distance measurement for the study's request, when it was made. */
  featureDistance: FeatureDistanceReport | null;
}

const STATE_OF_RUN: Record<RunDetail['summary']['status'], StudyCellState> = {
  queued: 'pending', running: 'training', paused: 'paused', stopped: 'stopped', failed: 'failed', interrupted: 'interrupted', completed: 'trained',
};

export function studyStatus(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[]): StudyCellStatus[] {
  const state = readStudyState(home, recipe.name);
  return cells.map((cell) => {
    const runId = state.runs[cell.key] ?? null;
    if (runId === null || !store.hasRun(runId)) return { cell, runId, state: 'pending', detail: null, report: null, featureDistance: null };
    const detail = store.getRun(runId);
    const request = studyEvalRequest(recipe, runId);
    const report = findStudyReport(home, request);
    const runState = STATE_OF_RUN[detail.summary.status];
    return {
      cell, runId, state: runState === 'trained' && report ? 'evaluated' : runState, detail, report, featureDistance: findFeatureDistance(home, request),
    };
  });
}
