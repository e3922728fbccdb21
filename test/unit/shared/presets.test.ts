// The paper presets: one definition (src-shared/presets.ts) that the schema accepts, used by
// `exitlab train --preset` with explicit options overriding it.
import { describe, expect, it } from 'vitest';
import { TrainConfigSchema } from '../../../src-shared/config';
import { PRESETS, PRESET_IDS, describePreset, paperLambda, presetLambda } from '../../../src-shared/presets';
import { configFromArgs } from '../../../src-main/cli/commands/train';
import { UsageError } from '../../../src-main/cli/errors';

describe('paper presets', () => {
  it("carry the paper's setup: 5 blocks for CIFAR-10, 7 blocks and the published λ for CIFAR-100", () => {
    const c10 = TrainConfigSchema.parse(PRESETS['paper-cifar10'].config);
    const c100 = TrainConfigSchema.parse(PRESETS['paper-cifar100'].config);
    expect(c10).toMatchObject({ method: 'fgsm-me', epochs: 100, momentum: 0.9, eps: 8, model: { blocks: 5 } });
    expect(c10.lambda).toEqual([0.1, 0.1, 0.15, 0.15, 0.15]);
    expect(c100.model.blocks).toBe(7);
    expect(c100.lambda).toEqual([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]);
  });

  it('say where the choice is ours: the CIFAR-10 λ and the learning-rate schedule', () => {
    expect(PRESETS['paper-cifar10'].ourChoices.map((c) => c.field)).toEqual(expect.arrayContaining(['lambda', 'lr']));
    expect(PRESETS['paper-cifar100'].ourChoices.map((c) => c.field)).not.toContain('lambda');
    for (const id of PRESET_IDS) expect(describePreset(id).join('\n')).toMatch(/our choice \(lr\)/);
  });

  it("fit λ to other exit counts by the paper's rule, fgsm-me's default", () => {
    expect(presetLambda('paper-cifar100', 7)).toEqual([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]);
    expect(presetLambda('paper-cifar100', 4)).toEqual([0.1, 0.1, 0.15, 0.15]);
    expect(presetLambda('paper-cifar10', 1)).toEqual([0.15]);
    for (const id of PRESET_IDS) for (let exits = 1; exits <= 12; exits++) expect(presetLambda(id, exits)).toEqual(paperLambda(exits));
  });

  it('exitlab train --preset: the preset under explicit options; its λ only for fgsm-me', () => {
    const { config } = configFromArgs(['--preset', 'paper-cifar10']);
    expect(config).toMatchObject({ method: 'fgsm-me', epochs: 100, model: { blocks: 5 }, lambda: [0.1, 0.1, 0.15, 0.15, 0.15] });
    expect(config.lr).toEqual({ kind: 'piecewise', max: 0.1, milestones: [0.5, 0.75], factor: 0.1 });
    const over = configFromArgs(['--preset', 'paper-cifar100', '--epochs', '3', '--lr', '0.05', '--channels', '8']).config;
    expect(over).toMatchObject({ epochs: 3, lr: { max: 0.05 }, model: { blocks: 7, channels: 8 } });
    expect(over.lambda).toHaveLength(7);
    expect(configFromArgs(['--preset', 'paper-cifar10', '--method', 'pgd-at']).config.lambda).toBeNull();
    // Another exit count than the preset's takes the rule's λ for that count, not the preset's list.
    expect(configFromArgs(['--preset', 'paper-cifar10', '--blocks', '6']).config.lambda).toEqual(paperLambda(6));
    expect(configFromArgs(['--preset', 'paper-cifar100', '--exits', 'last']).config.lambda).toEqual([0.15]);
    expect(configFromArgs(['--preset', 'paper-cifar10', '--lambda', '0,0,0,0,0.2']).config.lambda).toEqual([0, 0, 0, 0, 0.2]);
    // Without a preset nothing changes: the schema's defaults.
    expect(configFromArgs([]).config).toEqual(TrainConfigSchema.parse({}));
    expect(() => configFromArgs(['--preset', 'paper-svhn'])).toThrow(UsageError);
    expect(() => configFromArgs(['--preset', 'paper-svhn'])).toThrow(/unknown preset 'paper-svhn' \(presets: paper-cifar10, paper-cifar100\)/);
  });
});
