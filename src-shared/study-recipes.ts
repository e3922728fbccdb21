// Built-in study recipes, run by name (`exitlab study run paper --dataset <id> --epochs N`). The
// command line fills in or overrides the data set, the budget and the seeds.
import type { StudyRecipeInput } from './study';

export const BUILT_IN_STUDIES = {
  /**
   * The paper's comparison (its CIFAR-10 table): the proposed fgsm-me with λ against the baselines on
   * the paper's 5-block MSDNet, evaluated with the paper's attack columns. GradAlign, the paper's
   * sixth row, is not implemented here yet; the report shows its published row only.
   */
  paper: {
    name: 'paper',
    description: "Chen et al. 2022, CIFAR-10 table: fgsm-me with λ against PGD-AT, TRADES, Free-8 and fast FGSM (random start) on the paper's 5-block MSDNet",
    dataset: 'synthetic',
    preset: 'paper-cifar10',
    arms: [{ method: 'pgd-at' }, { method: 'trades' }, { method: 'free' }, { method: 'fgsm-rs' }, { method: 'fgsm-me' }],
  },
} as const satisfies Record<string, StudyRecipeInput>;

export type BuiltInStudy = keyof typeof BUILT_IN_STUDIES;
export const isBuiltInStudy = (name: string): name is BuiltInStudy => Object.hasOwn(BUILT_IN_STUDIES, name);
