// Study recipes: the grid a recipe expands to, and every bad recipe refused whole with its field named.
import { describe, expect, it } from 'vitest';
import { checkStudyRecipe, StudyRecipeError } from '../../../src-shared/study';
import { BUILT_IN_STUDIES } from '../../../src-shared/study-recipes';
import { PAPER_ATTACKS } from '../../../src-shared/evaluation';
import { PAPER_CIFAR10_ROWS } from '../../../src-shared/paper-results';

const base = {
  name: 'grid', dataset: 'synthetic', train: { epochs: 3, model: { blocks: 3 } },
  arms: [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }, { method: 'pgd-at' }], seeds: [0, 1],
};

const refusal = (recipe: unknown): string => {
  try {
    checkStudyRecipe(recipe);
  } catch (err) {
    expect(err).toBeInstanceOf(StudyRecipeError);
    return (err as StudyRecipeError).field;
  }
  throw new Error('the recipe was accepted');
};

describe('study recipes', () => {
  it('expands arms × seeds in grid order, with the paper λ, the zero control and no λ for the baselines', () => {
    const { recipe, cells } = checkStudyRecipe(base);
    expect(cells.map((c) => c.key)).toEqual(['fgsm-me-s0', 'fgsm-me-s1', 'fgsm-me-lambda-0-s0', 'fgsm-me-lambda-0-s1', 'pgd-at-s0', 'pgd-at-s1']);
    expect(cells[0].config).toMatchObject({ method: 'fgsm-me', lambda: [0.1, 0.15, 0.15], epochs: 3, seed: 0, dataset: 'synthetic' });
    expect(cells[3].config).toMatchObject({ lambda: [0, 0, 0], seed: 1 });
    expect(cells[4].config).toMatchObject({ method: 'pgd-at', lambda: null });
    expect(recipe.eval.attacks).toEqual([...PAPER_ATTACKS]);
    expect(recipe.eval.samples).toBe(256);
  });

  it('lays the preset under the study and the arm: the arm wins, then the study, then the preset', () => {
    const { cells } = checkStudyRecipe({
      ...base, preset: 'paper-cifar10', train: { epochs: 2 }, arms: [{ method: 'fgsm-me', train: { eps: 16 } }], seeds: [0],
    });
    expect(cells[0].config).toMatchObject({ epochs: 2, eps: 16, model: { blocks: 5 }, lambda: [0.1, 0.1, 0.15, 0.15, 0.15] });
  });

  it('the built-in paper recipe is valid and compares fgsm-me with five baselines on the 5-block network', () => {
    const { cells } = checkStudyRecipe(BUILT_IN_STUDIES.paper);
    expect(cells.map((c) => c.config.method)).toEqual(['pgd-at', 'trades', 'free', 'fgsm-rs', 'gradalign', 'fgsm-me']);
    expect(cells[4].config).toMatchObject({ gradAlignLambda: 0.2, lambda: null });
    // Every row of the paper's table has a method here, and the recipe runs each of them.
    expect(PAPER_CIFAR10_ROWS.map((r) => r.method).sort()).toEqual(cells.map((c) => c.config.method).sort());
    expect(cells.every((c) => c.config.model.blocks === 5)).toBe(true);
  });

  it('the built-in claim recipe trains the three arms on the same network, data, schedule and seed', () => {
    const { cells } = checkStudyRecipe({ ...BUILT_IN_STUDIES.claim, dataset: 'cifar10' });
    expect(cells.map((c) => [c.config.method, c.config.model.exits, c.config.lambda]))
      .toEqual([['fgsm', 'all', null], ['fgsm-me', 'all', [0.1, 0.15, 0.15]], ['fgsm-me', 'all', [0, 0, 0]]]);
    const shared = (c: (typeof cells)[number]) => ({ ...c.config, method: null, lambda: null });
    expect(shared(cells[1])).toEqual(shared(cells[0]));
    expect(shared(cells[2])).toEqual(shared(cells[0]));
  });

  it('refuses a bad recipe before any run, naming the field', () => {
    expect(refusal({ ...base, arms: [{ method: 'sgd' }] })).toBe('arms.0.method');
    expect(refusal({ ...base, eval: { attacks: ['pgd7'] } })).toBe('eval.attacks.0');
    expect(refusal({ ...base, preset: 'paper-imagenet' })).toBe('preset');
    expect(refusal({ ...base, arms: [] })).toBe('arms');
    expect(refusal({ ...base, seeds: [] })).toBe('seeds');
    expect(refusal({ ...base, seeds: [1, 1] })).toBe('seeds');
    expect(refusal({ ...base, arms: [{ method: 'fgsm-me', lambda: [0.1, 0.1] }] })).toBe('arms.0.lambda');
    expect(refusal({ ...base, arms: [{ method: 'trades', lambda: 'zero' }] })).toBe('arms.0.lambda');
    expect(refusal({ ...base, train: { epoch: 3 } })).toBe('train.epoch');
    expect(refusal({ ...base, arms: [{ method: 'pgd-at', train: { seed: 4 } }] })).toBe('arms.0.train.seed');
    expect(refusal({ ...base, arms: [{ method: 'pgd-at', train: { epochs: -1 } }] })).toBe('arms.0');
    expect(refusal({ ...base, arms: [{ method: 'pgd-at' }, { method: 'pgd-at' }] })).toBe('arms.1.label');
    expect(refusal({ ...base, name: '../escape' })).toBe('name');
  });
});
