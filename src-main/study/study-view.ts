// A study as one object: its runs' states, the results table and the figures. The report files and
// the app's Study view are both drawn from it, so they show the same numbers.
import { studyFigures } from '../../src-shared/study-figures';
import type { StudyCell, StudyRecipe, StudyView } from '../../src-shared/study';
import type { RunStore } from '../store/run-store';
import { trainingSeconds } from '../engine/eval/paper-table';
import type { SlurmCells } from './slurm/task-states';
import { studyStatus, type StudyCellStatus } from './study-status';
import { studyTable, type StudyTable } from './study-table';

export interface StudyViewParts {
  view: StudyView;
  statuses: StudyCellStatus[];
  table: StudyTable;
}

/** `slurm`: the cells' Slurm tasks, for a study run on a cluster (asked by the caller: it takes Slurm's tools). */
export function studyView(home: string, store: RunStore, recipe: StudyRecipe, cells: StudyCell[], slurm: SlurmCells | null = null): StudyViewParts {
  const statuses = studyStatus(home, store, recipe, cells);
  const table = studyTable(recipe, statuses);
  const figures = studyFigures(statuses.filter((s) => s.detail).map((s) => ({
    label: `${s.cell.label} · seed ${s.cell.seed}`, method: s.cell.config.method, epochs: s.detail!.epochs, trainSeconds: trainingSeconds(s.detail),
    evaluation: s.report, featureDistance: s.featureDistance,
  })));
  const view: StudyView = {
    recipe,
    cells: statuses.map((s, i) => ({
      key: s.cell.key, label: s.cell.label, seed: s.cell.seed, method: s.cell.config.method, runId: s.runId, state: s.state,
      epochsDone: s.detail?.summary.epochsDone ?? slurm?.cells[i].epochsDone ?? 0, epochs: s.cell.config.epochs, trainingSeconds: trainingSeconds(s.detail),
      slurm: slurm?.cells[i] ?? null,
    })),
    slurm: slurm && { sharedDir: slurm.record.sharedDir },
    table: { header: table.header, rows: table.rows },
    notes: table.notes,
    figures,
  };
  return { view, statuses, table };
}
