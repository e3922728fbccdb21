// Baseline trainers (PGD-AT, FGSM-RS with early stopping, Free-m, TRADES) on tiny MSDNets, multi-
// and single-exit, on the wasm backend: each step lowers its own loss, TRADES with β = 0 is clean
// training, Free-m's replays and persistent δ, the epoch division, early stopping at a forced
// collapse, and configuration checks.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TrainConfigSchema, type TrainConfigInput } from '../../../src-shared/config';
import type { DatasetManifest } from '../../../src-shared/datasets';
import type { EngineEvent } from '../../../src-shared/engine-messages';
import { createMethod } from '../../../src-main/engine/train/methods';
import { klDivergence } from '../../../src-main/engine/train/methods/trades';
import type { StepContext, TrainingMethod } from '../../../src-main/engine/train/methods/types';
import { trainStep } from '../../../src-main/engine/train/step';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';
import { ConfigError, resolveTrainConfig } from '../../../src-main/engine/train/resolve-config';
import { runTraining } from '../../../src-main/engine/train/trainer';
import { RunControl } from '../../../src-main/engine/train/run-control';
import { readCheckpoint } from '../../../src-main/engine/train/checkpoint';
import type { RobustAccuracy } from '../../../src-main/engine/train/monitor';
import { generateSynthetic } from '../../../src-main/datasets/synthetic';
import { selectBackend } from '../../../src-main/engine/backends/select';
import { randomBatch, tinyNet, TINY_MODEL } from '../../helpers/tiny-net';

// The trainer's per-epoch robustness check, scriptable: a test can force a collapse of the probe's
// PGD accuracy instead of training long enough to overfit for real.
const monitor = vi.hoisted(() => ({ script: null as null | ((call: number) => RobustAccuracy), calls: 0 }));
vi.mock('../../../src-main/engine/train/monitor', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src-main/engine/train/monitor')>();
  return {
    ...real,
    robustAccuracy: async (...args: Parameters<typeof real.robustAccuracy>) =>
      (monitor.script ? monitor.script(monitor.calls++) : real.robustAccuracy(...args)),
  };
});

const EPS = 8 / 255;
const PARAMS = { pgdSteps: 3, tradesBeta: 6, freeReplays: 3, gradAlignLambda: 0.2 };
const method = (name: 'pgd-at' | 'fgsm-rs' | 'free' | 'trades' | 'standard', over: Partial<typeof PARAMS> = {}) => createMethod({
  method: name, ...PARAMS, ...over,
});
const ctxFor = (net: ReturnType<typeof tinyNet>, m: TrainingMethod, seed = 3): StepContext => ({
  net, eps: EPS, alpha: m.defaultAlpha(8) / 255, lambda: new Array(net.exitCount).fill(0.05), seed,
});
const plainSgd = (vars: tf.Variable[]) => new SgdMomentum(vars, 0, 0);
const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);

// wasm (with the engine's own backprop kernels) is several times faster than cpu here.
beforeAll(async () => {
  await selectBackend('wasm');
});

describe('baseline methods, one step', () => {
  for (const exits of ['all', 'last'] as const) {
    for (const name of ['pgd-at', 'fgsm-rs', 'free', 'trades'] as const) {
      it(`${name} (${exits === 'all' ? 'multi-exit' : 'single-exit'}) keeps x' in the ε-ball and lowers its own loss`, async () => {
        const net = tinyNet(2, { exits });
        const m = method(name);
        const ctx = ctxFor(net, m);
        const { x, y } = randomBatch(6, 4);
        const crafted = m.craft(ctx, x, y);
        expect(maxAbs(tf.sub(crafted, x))).toBeLessThanOrEqual(EPS + 1e-6);
        expect(tf.min(crafted).dataSync()[0]).toBeGreaterThanOrEqual(0);
        expect(tf.max(crafted).dataSync()[0]).toBeLessThanOrEqual(1);
        const lossAt = () => tf.tidy(() => m.loss(ctx, x, crafted, y).loss.dataSync()[0]);
        const before = lossAt();
        const lrs: number[] = [];
        const opt = plainSgd(net.trainableVariables);
        await trainStep(m, ctx, x, y, net.trainableVariables, opt, (r) => (lrs.push(r), 0.05));
        expect(lrs).toEqual(name === 'free' ? [0, 1, 2] : [0]);
        const after = lossAt();
        expect(Number.isFinite(before)).toBe(true);
        expect(after).toBeLessThan(before);
        m.dispose?.();
        opt.dispose();
        tf.dispose([x, y, crafted]);
        net.dispose();
      });
    }
  }

  it('PGD-AT and FGSM-RS examples raise the exits\' average loss above the clean one', () => {
    const net = tinyNet(5);
    const { x, y } = randomBatch(8, 6);
    const avgCe = (input: tf.Tensor4D) => tf.tidy(() => {
      const logits = net.forward(input, true);
      return tf.addN(logits.map((l) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), l))).dataSync()[0];
    });
    const clean = avgCe(x);
    for (const name of ['pgd-at', 'fgsm-rs'] as const) {
      const m = method(name);
      const adv = m.craft(ctxFor(net, m), x, y);
      expect(avgCe(adv)).toBeGreaterThan(clean);
      adv.dispose();
    }
    net.dispose();
  });
});

describe('TRADES', () => {
  it('KL(f(x) ‖ f(x′)) matches a hand computation and vanishes at x′ = x', () => {
    const p = tf.tensor2d([[1, 0, -1], [0.5, 0.5, 2]]);
    const q = tf.tensor2d([[0, 1, 0], [0.5, 0.5, 2]]);
    const softmax = (v: number[]) => v.map((a) => Math.exp(a) / v.reduce((s, b) => s + Math.exp(b), 0));
    const P = softmax([1, 0, -1]);
    const Q = softmax([0, 1, 0]);
    const expected = P.reduce((s, pi, i) => s + pi * Math.log(pi / Q[i]), 0);
    const kl = klDivergence(p, q).arraySync();
    expect(kl[0]).toBeCloseTo(expected, 5);
    expect(kl[1]).toBeCloseTo(0, 6);
    tf.dispose([p, q]);
  });

  it('with β = 0 is clean cross-entropy training: same loss and same weight gradients', () => {
    const net = tinyNet(7);
    const { x, y } = randomBatch(6, 8);
    const vars = net.trainableVariables;
    const gradsOf = (m: TrainingMethod) => {
      const ctx = ctxFor(net, m);
      const crafted = m.craft(ctx, x, y);
      const { value, grads } = tf.variableGrads(() => m.loss(ctx, x, crafted, y).loss, vars);
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync()) };
      tf.dispose([value, Object.values(grads), crafted === x ? [] : crafted]);
      return out;
    };
    const clean = gradsOf(method('standard'));
    const trades0 = gradsOf(method('trades', { tradesBeta: 0 }));
    const trades6 = gradsOf(method('trades', { tradesBeta: 6 }));
    expect(trades0.loss).toBeCloseTo(clean.loss, 5);
    trades0.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - clean.grads[i][j])).toBeLessThan(1e-5)));
    // The KL term is there when β > 0: x′ was pushed away from x in prediction.
    expect(trades6.loss).toBeGreaterThan(clean.loss + 1e-6);
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('Free-m', () => {
  it('does m weight updates per minibatch with one backward pass each; δ climbs the input gradient, persists and stays in the ε-ball', async () => {
    const net = tinyNet(9);
    const m = method('free', { freeReplays: 4 });
    const ctx = ctxFor(net, m);
    const vars = net.trainableVariables;
    const { x, y } = randomBatch(6, 10);
    // The first replay starts from δ = 0; lr 0 keeps the weights, so the input gradient can be checked.
    const ref = tf.tidy(() => tf.grad((xi: tf.Tensor) => m.loss(ctx, x, xi as tf.Tensor4D, y).loss)(x));
    const opt = plainSgd(vars);
    const updates: number[] = [];
    const counting = { apply: (g: tf.Tensor[], lr: number) => (updates.push(lr), opt.apply(g, lr)) };
    const once = { ...m, replays: 1 };
    await trainStep(once, ctx, x, y, vars, counting, () => 0);
    const step1 = tf.tidy(() => tf.sub(m.craft(ctx, x, y), x));
    const expected = tf.tidy(() => tf.sub(tf.clipByValue(tf.add(x, tf.mul(EPS, tf.sign(ref))), 0, 1), x));
    const agree = tf.tidy(() => tf.mean(tf.cast(tf.less(tf.abs(tf.sub(step1, expected)), 1e-6), 'float32')).dataSync()[0]);
    expect(agree).toBeGreaterThan(0.99);

    // Now the real thing: m = 4 updates per minibatch, over three minibatches.
    updates.length = 0;
    for (let b = 0; b < 3; b++) {
      const batch = b === 0 ? { x, y } : randomBatch(6, 20 + b);
      const seen: tf.Tensor4D[] = [];
      await trainStep(m, ctx, batch.x, batch.y, vars, counting, () => 0.02, async () => {
        seen.push(tf.sub(m.craft(ctx, batch.x, batch.y), batch.x) as tf.Tensor4D);
      });
      for (const d of seen) {
        expect(maxAbs(d)).toBeLessThanOrEqual(EPS + 1e-6);
        expect(maxAbs(d)).toBeGreaterThan(EPS / 2);
      }
      tf.dispose(seen);
      if (b > 0) tf.dispose([batch.x, batch.y]);
    }
    expect(updates).toEqual(new Array(12).fill(0.02));
    tf.dispose([ref, step1, expected, x, y]);
    m.dispose?.();
    opt.dispose();
    net.dispose();
  });
});

describe('baseline configuration', () => {
  const parse = (input: TrainConfigInput) => TrainConfigSchema.parse(input);

  it('rejects bad parameters', () => {
    expect(TrainConfigSchema.safeParse({ tradesBeta: -1 }).success).toBe(false);
    expect(TrainConfigSchema.safeParse({ freeReplays: 0 }).success).toBe(false);
    expect(TrainConfigSchema.safeParse({ freeReplays: 2.5 }).success).toBe(false);
    expect(TrainConfigSchema.safeParse({ pgdSteps: 0 }).success).toBe(false);
    expect(TrainConfigSchema.safeParse({ method: 'free-m' }).success).toBe(false);
    expect(() => resolveTrainConfig(parse({ method: 'fgsm-rs', earlyStop: true, keepBest: false }))).toThrow(ConfigError);
  });

  it('fills method defaults: α, early stopping, Free-m passes', () => {
    const r = (input: TrainConfigInput) => resolveTrainConfig(parse(input));
    expect(r({ method: 'pgd-at' }).alpha).toBeCloseTo(2 / 255);
    expect(r({ method: 'trades' }).alpha).toBeCloseTo(2 / 255);
    expect(r({ method: 'fgsm-rs' }).alpha).toBeCloseTo(10 / 255);
    expect(r({ method: 'free' }).alpha).toBeCloseTo(8 / 255);
    expect(r({ method: 'fgsm-rs' }).config.earlyStop).toBe(true);
    expect(r({ method: 'fgsm-rs', keepBest: false }).config.earlyStop).toBe(false);
    expect(r({ method: 'pgd-at' }).config.earlyStop).toBe(false);
    expect(r({ method: 'trades', earlyStop: true }).config.earlyStop).toBe(true);
    expect(r({ method: 'free', epochs: 10, freeReplays: 4, lambdaWarmupEpochs: 4 }).config).toMatchObject({ epochs: 3, lambdaWarmupEpochs: 1 });
    expect(r({ method: 'free', epochs: 8, freeReplays: 8 }).config.epochs).toBe(1);
    expect(r({ method: 'pgd-at', epochs: 10 }).config.epochs).toBe(10);
    expect(r({ method: 'trades', model: { exits: 'last' } }).exitCount).toBe(1);
    expect(r({ method: 'trades' }).lambda).toEqual(new Array(7).fill(0));
  });
});

describe('trainer with the baselines', () => {
  const data = (() => {
    const { train, test } = generateSynthetic({ trainCount: 16, testCount: 8 });
    // A partial manifest: training reads only the classes, the normalisation and the flip flag.
    const manifest = {
      classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], flipAugment: true,
    } as unknown as DatasetManifest;
    return { manifest, train, test };
  })();
  const acc = (v: number, exits: number) => new Array(exits).fill(v);
  async function train(input: TrainConfigInput, script: (call: number) => RobustAccuracy) {
    monitor.script = script;
    monitor.calls = 0;
    const events: EngineEvent[] = [];
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-baselines-'));
    const config = TrainConfigSchema.parse({
      model: TINY_MODEL, batchSize: 8, trainSamples: 16, evalSamples: 4, maxBatchesPerEpoch: 1, augment: false, backend: 'wasm', seed: 1, ...input,
    });
    try {
      await runTraining({
        runId: 'r', config, runDir, resume: false, data, emit: (e) => events.push(e), control: new RunControl(), backend: { backend: 'wasm', skipped: [] },
      });
      return { events, runDir };
    } finally {
      monitor.script = null;
    }
  }
  // Val (even calls) and probe (odd calls) accuracies per epoch: the probe's PGD accuracy collapses
  // at epoch 3 while its FGSM accuracy soars — catastrophic overfitting.
  const collapse = (exits: number) => (call: number): RobustAccuracy => {
    const epoch = Math.floor(call / 2) + 1;
    const pgd = [0.3, 0.4, 0.05, 0.05, 0.05][epoch - 1];
    const fgsm = [0.4, 0.5, 0.9, 0.9, 0.9][epoch - 1];
    return call % 2 === 0
      ? { clean: acc(0.6, exits), fgsm: acc(fgsm, exits), pgd: acc(pgd, exits) }
      : { clean: acc(0.6, exits), fgsm: acc(fgsm, exits), pgd: acc(pgd + 0.2, exits) };
  };

  it('fgsm-rs early stopping ends the run at the flagged epoch and keeps the best checkpoint', async () => {
    const { events, runDir } = await train({ method: 'fgsm-rs', epochs: 5 }, collapse(3));
    const epochs = events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.metrics);
    expect(epochs.map((m) => m && m.epoch)).toEqual([1, 2, 3]);
    const flagged = epochs[2] as Exclude<(typeof epochs)[number], false>;
    expect(flagged.catastrophicOverfitting.detected).toBe(true);
    expect(flagged.catastrophicOverfitting.reason).toMatch(/^early-stopped: catastrophic overfitting at epoch 3/);
    expect(events.some((e) => e.type === 'log' && /early-stopped: catastrophic overfitting at epoch 3.*best checkpoint: epoch 2/.test(e.message))).toBe(true);
    const finished = events.at(-1)!;
    expect(finished).toMatchObject({ type: 'finished', status: 'completed', epochs: 3, bestEpoch: 2 });
    expect(finished.type === 'finished' && finished.seconds).toBeGreaterThan(0);
    expect(readCheckpoint(path.join(runDir, 'best.ckpt')).epoch).toBe(2);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('without early stopping the same collapse is only flagged (pgd-at, single exit)', async () => {
    const { events, runDir } = await train({ method: 'pgd-at', pgdSteps: 1, epochs: 4, model: { ...TINY_MODEL, exits: 'last' } }, collapse(1));
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: 'finished', status: 'completed', epochs: 4, bestEpoch: 2 });
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('Free-m divides the epochs by m and records training time per epoch and in total', async () => {
    const steady = (call: number): RobustAccuracy => ({ clean: acc(0.5, 3), fgsm: acc(0.3, 3), pgd: acc(0.2 + 0.01 * call, 3) });
    const { events, runDir } = await train({ method: 'free', epochs: 4, freeReplays: 2 }, steady);
    const epochs = events.flatMap((e) => (e.type === 'epoch' ? [e.metrics] : []));
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2]);
    expect(events.filter((e) => e.type === 'progress').every((e) => e.type === 'progress' && e.epochs === 2)).toBe(true);
    expect(epochs.every((m) => m.seconds > 0 && m.imagesPerSecond > 0)).toBe(true);
    const finished = events.at(-1)!;
    expect(finished).toMatchObject({ type: 'finished', status: 'completed', epochs: 2 });
    expect(finished.type === 'finished' && finished.seconds).toBeGreaterThanOrEqual(epochs[0].seconds + epochs[1].seconds);
    fs.rmSync(runDir, { recursive: true, force: true });
  });
});
