import { describe, expect, it } from 'vitest';
import { defaultForm, exitCount, validateForm } from '../../src-renderer/src/lib/run-form';
import { TrainConfigSchema } from '../../src-shared/config';

describe('the New run form', () => {
  it('turns the defaults into a valid configuration of the paper method', () => {
    const { config, errors } = validateForm(defaultForm());
    expect(errors).toEqual({});
    expect(config).toMatchObject({ method: 'fgsm-me', dataset: 'synthetic', eps: 8 });
    expect(config!.lambda).toHaveLength(7);
  });

  it("submits exactly the schema's defaults when nothing is changed (only λ is the form's own: the paper's preset)", () => {
    const { config } = validateForm(defaultForm());
    expect(config).toEqual({ ...TrainConfigSchema.parse({}), lambda: config!.lambda });
  });

  it('flags each bad field by its path, and blocks the run', () => {
    const form = defaultForm();
    form.epochs = 0;
    form.eps = -1;
    const { config, errors } = validateForm(form);
    expect(config).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(['epochs', 'eps']);
  });

  it('checks λ against the exit count and the warm-up against the epochs', () => {
    const form = defaultForm();
    form.lambda = [0.1, 0.1];
    expect(validateForm(form).errors.lambda).toMatch(/λ has 2 value\(s\) but the model has 7 exit\(s\)/);
    form.lambda = new Array(exitCount(form)).fill(0.1);
    form.lambdaWarmupEpochs = form.epochs + 1;
    expect(validateForm(form).errors.lambdaWarmupEpochs).toMatch(/warm-up/);
  });

  it("carries GradAlign's λ_ga with the schema's default and limit", () => {
    const form = { ...defaultForm(), method: 'gradalign' as const };
    expect(form.gradAlignLambda).toBe(0.2);
    form.gradAlignLambda = 0.5;
    expect(validateForm(form).config).toMatchObject({ method: 'gradalign', gradAlignLambda: 0.5 });
    form.gradAlignLambda = -1;
    expect(Object.keys(validateForm(form).errors)).toEqual(['gradAlignLambda']);
    form.gradAlignLambda = Number.NaN;
    expect(validateForm(form).errors.gradAlignLambda).toBe('a number is required');
  });

  it('single-exit methods and models have one λ', () => {
    expect(exitCount({ ...defaultForm(), method: 'fgsm' })).toBe(1);
    const form = defaultForm();
    form.model = { ...form.model, exits: 'last' };
    expect(exitCount(form)).toBe(1);
  });
});

describe('paper setups in the New run form', () => {
  it('applies a preset from src-shared: 5 blocks and our CIFAR-10 λ, or 7 blocks and the paper CIFAR-100 λ; the result is valid', async () => {
    const { applyPreset } = await import('../../src-renderer/src/lib/run-form');
    const c10 = applyPreset(defaultForm(), 'paper-cifar10');
    expect(c10).toMatchObject({ method: 'fgsm-me', epochs: 100, momentum: 0.9, lambdaPreset: 'paper-cifar10', model: { blocks: 5 } });
    expect(c10.lambda).toEqual([0.1, 0.1, 0.15, 0.15, 0.15]);
    expect(validateForm(c10).errors).toEqual({});
    const c100 = applyPreset(c10, 'paper-cifar100');
    expect(c100.model.blocks).toBe(7);
    expect(validateForm(c100).config!.lambda).toEqual([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]);
  });
});
