import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configFromArgs } from '../../../src-main/cli/commands/train';
import { UsageError } from '../../../src-main/cli/errors';
import { resolveTrainConfig } from '../../../src-main/engine/train/resolve-config';

const bad = (argv: string[]) => {
  try {
    configFromArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('exitlab train options', () => {
  it('defaults to the paper method on the synthetic set with the paper λ', () => {
    const { config } = configFromArgs([]);
    expect([config.dataset, config.method, config.epochs, config.eps]).toEqual(['synthetic', 'fgsm-me', 2, 8]);
    expect(resolveTrainConfig(config).lambda).toEqual([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]);
    expect(resolveTrainConfig(config).eps).toBeCloseTo(8 / 255);
  });

  it('reads model shape and schedule options', () => {
    const { config } = configFromArgs(['--blocks', '3', '--lambda', '0,0.1,0.2', '--lr-schedule', 'cyclic', '--lr', '0.2', '--json']);
    expect(config.model.blocks).toBe(3);
    expect(config.lr).toEqual({ kind: 'cyclic', max: 0.2 });
    expect(config.lambda).toEqual([0, 0.1, 0.2]);
  });

  it('single-exit fgsm trains only the last exit without λ', () => {
    const r = resolveTrainConfig(configFromArgs(['--method', 'fgsm']).config);
    expect(r.exitCount).toBe(1);
    expect(r.lambda).toEqual([0]);
  });

  it('reads the baselines\' options', () => {
    const { config } = configFromArgs(['--method', 'trades', '--beta', '3', '--pgd-steps', '5', '--exits', 'last', '--classifier-channels', '8']);
    expect(config).toMatchObject({ method: 'trades', tradesBeta: 3, pgdSteps: 5, model: { exits: 'last', classifierChannels: 8 } });
    expect(resolveTrainConfig(config).exitCount).toBe(1);
    expect(configFromArgs(['--method', 'free', '--replays', '4']).config.freeReplays).toBe(4);
    expect(configFromArgs(['--method', 'pgd-at', '--early-stop']).config.earlyStop).toBe(true);
    expect(configFromArgs(['--method', 'fgsm-rs', '--no-early-stop']).config.earlyStop).toBe(false);
    expect(resolveTrainConfig(configFromArgs(['--method', 'fgsm-rs']).config).config.earlyStop).toBe(true);
    expect(configFromArgs(['--method', 'gradalign', '--grad-align-lambda', '0.5']).config).toMatchObject({ method: 'gradalign', gradAlignLambda: 0.5 });
    expect(configFromArgs(['--method', 'gradalign']).config.gradAlignLambda).toBe(0.2);
  });

  it('rejects bad input with one clear line', () => {
    expect(bad(['--method', 'trades', '--beta=-1'])).toMatch(/^--beta:/);
    expect(bad(['--method', 'free', '--replays', '0'])).toMatch(/^--replays:/);
    expect(bad(['--method', 'gradalign', '--grad-align-lambda=-0.1'])).toMatch(/^--grad-align-lambda:/);
    expect(bad(['--grad-align-lambda', 'x'])).toMatch(/--grad-align-lambda must be a number/);
    expect(bad(['--pgd-steps', '0'])).toMatch(/^--pgd-steps:/);
    expect(bad(['--exits', 'first'])).toMatch(/--exits must be all or last/);
    expect(bad(['--early-stop', '--no-early-stop'])).toMatch(/contradict/);
    expect(bad(['--eps', '-1'])).toMatch(/eps/);
    expect(bad(['--lambda', '0.1,0.1'])).toMatch(/--lambda has 2 value\(s\) but the model has 7 exit\(s\)/);
    expect(bad(['--lambda', '0.1,x'])).toMatch(/--lambda value 2/);
    expect(bad(['--method', 'magic'])).toMatch(/method/);
    expect(bad(['--backend', 'tpu'])).toMatch(/backend/);
    expect(bad(['--epochs', '0'])).toMatch(/epochs/);
    expect(bad(['--epochs', 'two'])).toMatch(/--epochs must be a number/);
    expect(bad(['--frobnicate'])).toMatch(/frobnicate/);
    expect(bad(['--lr-schedule', 'cosine'])).toMatch(/lr-schedule/);
    expect(bad(['--dataset', 'cifar-nope', '--home', fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-opts-'))])).toMatch(
      /unknown data set 'cifar-nope' \(available: synthetic/,
    );
  });
});

describe('engine failure classification', () => {
  it('names out-of-memory, NaN and configuration failures', async () => {
    const { classifyFailure } = await import('../../../src-main/engine/process/failure');
    const { NanLossError } = await import('../../../src-main/engine/train/trainer');
    expect(classifyFailure(new RangeError('Array buffer allocation failed')).kind).toBe('out-of-memory');
    expect(classifyFailure(new Error('Aborted(OOM)')).kind).toBe('out-of-memory');
    expect(classifyFailure(new NanLossError('loss became NaN')).kind).toBe('nan-loss');
    expect(classifyFailure(new Error('boom'))).toEqual({ kind: 'error', message: 'boom' });
  });
});
