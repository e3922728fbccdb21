// Study methods: what the app's Study view reads, and Collect for a study run on Slurm. Studies are
// started from the command line (`exitlab study run`); their runs are ordinary runs of the store.
import { checkStudyRecipe } from '../../../src-shared/study';
import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { collectStudy } from '../../study/slurm/collect-study';
import { slurmCellsToShow } from '../../study/slurm/task-states';
import { listStudies, readStoredRecipe } from '../../study/study-folder';
import { writeStudyReport } from '../../study/study-report';
import { studyStatus } from '../../study/study-status';
import { studyView } from '../../study/study-view';

export function studyHandlers(ctx: ApiContext): Pick<Handlers, 'studies.list' | 'studies.get' | 'studies.report' | 'studies.collect'> {
  const open = (name: string) => {
    const recipe = readStoredRecipe(ctx.home, name);
    if (!recipe) throw new ApiError('not-found', `no study '${name}' in ${ctx.home}`);
    return checkStudyRecipe(recipe);
  };
  return {
    'studies.list': () => listStudies(ctx.home).map((name) => {
      const { recipe, cells } = open(name);
      const states = studyStatus(ctx.home, ctx.runs.store, recipe, cells);
      return {
        name, description: recipe.description, dataset: recipe.dataset, runs: cells.length, evaluated: states.filter((s) => s.state === 'evaluated').length,
      };
    }),
    'studies.get': async ({ name }) => {
      const { recipe, cells } = open(name);
      return studyView(ctx.home, ctx.runs.store, recipe, cells, await slurmCellsToShow(ctx.home, ctx.runs.store, recipe, cells)).view;
    },
    'studies.report': ({ name }) => {
      const { recipe, cells } = open(name);
      const written = writeStudyReport(ctx.home, ctx.runs.store, recipe, cells);
      return { dir: written.dir, files: written.files };
    },
    'studies.collect': ({ name }) => {
      const { recipe, cells } = open(name);
      const result = collectStudy(ctx.home, ctx.runs.store, recipe, cells);
      if (result.imported.length) ctx.hub.emit('runs.changed', { runId: null });
      return result;
    },
  };
}
