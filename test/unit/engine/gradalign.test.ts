// GradAlign (gradalign): the gradient-alignment penalty, its weight gradient by double backprop
// checked against central differences on a tiny MSDNet on cpu and against cpu on wasm, with the
// one-pass batch norm and tf.logSoftmax as the negative control; the method's step against fgsm-rs;
// and its setting. The ops made twice differentiable for it are checked in double-backprop.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TrainConfigSchema } from '../../../src-shared/config';
import { selectBackend } from '../../../src-main/engine/backends/select';
import { randomStart } from '../../../src-main/engine/attacks/ball';
import { createMethod, TRAINING_METHODS } from '../../../src-main/engine/train/methods';
import { alignmentPenalty, gradAlign, lossInputGradient, misalignment } from '../../../src-main/engine/train/methods/gradalign';
import type { StepContext, TrainingMethod } from '../../../src-main/engine/train/methods/types';
import { resolveTrainConfig } from '../../../src-main/engine/train/resolve-config';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';
import { trainStep } from '../../../src-main/engine/train/step';
import { randomBatch, tinyNet } from '../../helpers/tiny-net';
import { relError } from '../../helpers/relative-error';

const EPS = 8 / 255;
const values = (ts: tf.Tensor[]) => ts.map((t) => Float32Array.from(t.dataSync()));

/**
 * The penalty 1 − cos(g1, ∇ₓℓ(x + η)) of a tiny MSDNet (3 exits, batch 2) as a function of its
 * weights, g1 = ∇ₓℓ(x) held fixed as in training, and its weight gradient by double backprop.
 */
function penaltyRig(twiceDifferentiable = true) {
  const net = tinyNet(3);
  const { x, y } = randomBatch(2, 5);
  const g1 = tf.tidy(() => lossInputGradient(net, x, y, false));
  const noisy = randomStart(x, EPS, 11);
  const vars = net.trainableVariables;
  // tfjs-layers suffixes the variables of a second network built with the same layer names; the
  // layer's own weight names stay as built.
  const names = net.layersModel.trainableWeights.map((w) => w.originalName);
  const variable = (name: string) => vars[names.indexOf(name)];
  const penalty = () => tf.tidy(() => misalignment(g1, lossInputGradient(net, noisy, y, false)).dataSync()[0]);
  const gradients = () => {
    const { value, grads } = tf.variableGrads(() => misalignment(g1, lossInputGradient(net, noisy, y, twiceDifferentiable)), vars);
    // A weight the penalty does not reach through the tape has no entry.
    const byName: Record<string, Float32Array> = {};
    vars.forEach((v, i) => {
      if (grads[v.name]) byName[names[i]] = Float32Array.from(grads[v.name].dataSync());
    });
    const out = { value: value.dataSync()[0], grads: byName };
    tf.dispose([value, Object.values(grads)]);
    return out;
  };
  return { variable, penalty, gradients, dispose: () => (tf.dispose([x, y, g1, noisy]), net.dispose()) };
}

/** Central difference of `f` in entry `j` of `v`. */
function centralDifference(f: () => number, v: tf.Variable, j: number, h: number): number {
  const base = v.dataSync().slice();
  const at = (d: number) => {
    const moved = base.slice();
    moved[j] += d;
    v.assign(tf.tensor(moved, v.shape));
    return f();
  };
  const slope = (at(h) - at(-h)) / (2 * h);
  v.assign(tf.tensor(base, v.shape));
  return slope;
}

const argMaxAbs = (a: Float32Array) => a.reduce((best, v, i) => (Math.abs(v) > Math.abs(a[best]) ? i : best), 0);

describe('the penalty\'s weight gradient on a tiny MSDNet, by double backprop', () => {
  // Weights of every kind after which no ReLU of the body follows: a step in a body weight moves
  // thousands of pre-activations and flips some ReLUs, and the penalty (made of ReLU′ masks) jumps
  // there, so central differences say nothing. These are the last conv and batch norm of the heads
  // of exits 1 and 3 and fully connected weights; the inner gradient still passes back through
  // every layer of the body, so every op's second derivative is in the check.
  const CHECKED = ['conv_30/kernel', 'bn_31/gamma', 'conv_82/kernel', 'bn_83/gamma', 'exit2_fc/kernel', 'exit0_fc/bias'];
  let cpu: ReturnType<ReturnType<typeof penaltyRig>['gradients']>;
  let finite: Array<{ name: string; analytic: number; fd: number }>;

  beforeAll(async () => {
    await selectBackend('cpu');
    const rig = penaltyRig();
    cpu = rig.gradients();
    finite = CHECKED.map((name) => {
      const v = rig.variable(name);
      const j = argMaxAbs(cpu.grads[name]);
      return { name, analytic: cpu.grads[name][j], fd: centralDifference(rig.penalty, v, j, 3e-3) };
    });
    rig.dispose();
    // Twelve penalties on cpu: about 5 s on an idle machine, several times that on a loaded one.
  }, 60_000);

  it('matches central differences on cpu (relative error below 1e-2; measured 4e-5 to 5e-3, the bias worst)', () => {
    expect(cpu.value).toBeGreaterThan(0.05);
    for (const { name, analytic, fd } of finite) {
      expect(Math.abs(analytic), name).toBeGreaterThan(1e-3);
      expect(Math.abs(fd - analytic) / Math.abs(analytic), name).toBeLessThan(1e-2);
    }
  });

  it('is the same on wasm, through our kernels, as on cpu (relative error below 2e-4 per weight tensor; measured 2e-5)', async () => {
    await selectBackend('wasm');
    const rig = penaltyRig();
    const wasm = rig.gradients();
    rig.dispose();
    expect(Math.abs(wasm.value - cpu.value)).toBeLessThan(1e-5);
    let worst = 0;
    expect(Object.keys(wasm.grads)).toEqual(Object.keys(cpu.grads));
    for (const [name, g] of Object.entries(cpu.grads)) worst = Math.max(worst, relError(wasm.grads[name], g));
    expect(worst).toBeLessThan(2e-4);
  });

  it('needs the twice-differentiable pass: with the plain batch norm gradient and tf.logSoftmax it is wrong on cpu and an error on wasm', async () => {
    await selectBackend('cpu');
    const rig = penaltyRig(false);
    const fast = rig.gradients();
    rig.dispose();
    // Their statistics and softmax count as constants in the second derivative: 0.6 to 37 per cent off.
    // The exits' biases move the penalty only through the softmax's curvature, which is lost.
    expect(fast.grads['exit0_fc/bias']).toBeUndefined();
    const off = finite.filter(({ name }) => fast.grads[name]).map(({ name, fd }) => Math.abs(fast.grads[name][argMaxAbs(cpu.grads[name])] - fd) / Math.abs(fd));
    expect(off.length).toBe(finite.length - 1);
    expect(Math.max(...off)).toBeGreaterThan(2e-2);
    await selectBackend('wasm');
    const onWasm = penaltyRig(false);
    expect(() => onWasm.gradients()).toThrow(/gradient function not found for ExitLabBatchNormTrainingGrad/);
    onWasm.dispose();
  });
});

describe('the gradalign step', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  const ctxFor = (net: ReturnType<typeof tinyNet>, m: TrainingMethod): StepContext => ({
    net, eps: EPS, alpha: m.defaultAlpha(8) / 255, lambda: new Array(net.exitCount).fill(0.05), seed: 3,
  });

  const LR = 0.05;

  /**
   * One trainStep (plain SGD) of `m` from the same initial weights and batch: its crafted inputs,
   * loss, every weight after it (moving statistics too) and the trainable ones.
   */
  async function stepWith(m: TrainingMethod) {
    const net = tinyNet(2);
    const { x, y } = randomBatch(6, 4);
    const ctx = ctxFor(net, m);
    const opt = new SgdMomentum(net.trainableVariables, 0, 0);
    let crafted: Float32Array[] = [];
    const recording: TrainingMethod = { ...m, craft: (...args) => {
      const out = m.craft(...args);
      crafted = values([out]);
      return out;
    } };
    const loss = await trainStep(recording, ctx, x, y, net.trainableVariables, opt, () => LR);
    const weights = values(net.layersModel.getWeights());
    const trainable = values(net.trainableVariables);
    opt.dispose();
    m.dispose?.();
    tf.dispose([x, y]);
    net.dispose();
    return { loss, weights, trainable, crafted };
  }

  it('misalignment: 1 − cos per example, averaged, zero-gradient examples left out, finite gradient there', () => {
    tf.tidy(() => {
      const g1 = tf.tensor4d([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0], [4, 2, 2, 1]);
      const g2 = tf.tensor4d([3, 0, 0, 0, -1, -1, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0], [4, 2, 2, 1]);
      // Rows: aligned (0), opposite (2), orthogonal (1), and a zero second gradient (left out).
      expect(misalignment(g1, g2).dataSync()[0]).toBeCloseTo(1, 6);
      const grad = tf.grad((g: tf.Tensor) => misalignment(g1, g as tf.Tensor4D))(g2).dataSync();
      expect(grad.every(Number.isFinite)).toBe(true);
      expect(Array.from(grad.slice(12))).toEqual([0, 0, 0, 0]);
      expect(misalignment(tf.zeros([2, 2, 2, 1]), tf.ones([2, 2, 2, 1])).dataSync()[0]).toBe(0);
    });
  });

  it('with λ_ga = 0 is fgsm-rs\'s step, bit for bit: crafted inputs, loss and every weight', async () => {
    const rs = await stepWith(createMethod(TrainConfigSchema.parse({ method: 'fgsm-rs' })));
    const ga0 = await stepWith(gradAlign(0));
    expect(ga0.loss).toBe(rs.loss);
    expect(ga0.crafted).toEqual(rs.crafted);
    expect(ga0.weights).toEqual(rs.weights);
  });

  it('with λ_ga = 0.2 crafts the same inputs, adds λ_ga·penalty to the loss and −lr·λ_ga·∇penalty to the update', async () => {
    const rs = await stepWith(createMethod(TrainConfigSchema.parse({ method: 'fgsm-rs' })));
    const ga = await stepWith(gradAlign(0.2));
    expect(ga.crafted).toEqual(rs.crafted);
    // λ_ga·penalty and its weight gradient at the initial weights, by a backward pass of its own.
    const net = tinyNet(2);
    const { x, y } = randomBatch(6, 4);
    const ctx = ctxFor(net, TRAINING_METHODS['fgsm-rs']);
    const vars = net.trainableVariables;
    const clean = tf.tidy(() => lossInputGradient(net, x, y, false));
    const { value, grads } = tf.variableGrads(() => tf.mul(0.2, alignmentPenalty(net, x, y, clean, EPS, ctx.seed)) as tf.Scalar, vars);
    const weighted = value.dataSync()[0];
    expect(weighted / 0.2).toBeGreaterThan(0.01);
    expect(weighted / 0.2).toBeLessThan(2);
    expect(Math.abs(ga.loss - rs.loss - weighted)).toBeLessThan(1e-5);
    // The updates differ by −lr·∇(λ_ga·penalty), to float noise (measured 3e-4 of its largest entry).
    const expected = values(vars.map((v) => tf.mul(-LR, grads[v.name])));
    let diff = 0;
    let scale = 0;
    ga.trainable.forEach((w, i) => w.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(v - rs.trainable[i][j] - expected[i][j]));
      scale = Math.max(scale, Math.abs(expected[i][j]));
    }));
    expect(scale).toBeGreaterThan(1e-5);
    expect(diff / scale).toBeLessThan(3e-3);
    tf.dispose([value, Object.values(grads), clean, x, y]);
    net.dispose();
  });

  it('refuses a loss on inputs its craft did not make, and keeps no tensor beyond one step', async () => {
    const net = tinyNet(2);
    const { x, y } = randomBatch(4, 7);
    const m = gradAlign(0.2);
    const ctx = ctxFor(net, m);
    expect(() => tf.tidy(() => m.loss(ctx, x, x, y).loss)).toThrow(/needs the inputs its craft\(\) returned/);
    const opt = new SgdMomentum(net.trainableVariables, 0.9, 5e-4);
    await trainStep(m, ctx, x, y, net.trainableVariables, opt, () => 0.05);
    const after1 = tf.memory().numTensors;
    await trainStep(m, { ...ctx, seed: 4 }, x, y, net.trainableVariables, opt, () => 0.05);
    expect(tf.memory().numTensors).toBe(after1);
    // What it keeps from craft to loss: the penalty and its gradient for each weight.
    m.dispose?.();
    expect(tf.memory().numTensors).toBe(after1 - 1 - net.trainableVariables.length);
    opt.dispose();
    tf.dispose([x, y]);
    net.dispose();
  });
});

describe('gradalign configuration', () => {
  it('λ_ga defaults to 0.2, the authors\' value at ε = 8/255, and is validated like the other fields', () => {
    expect(TrainConfigSchema.parse({}).gradAlignLambda).toBe(0.2);
    expect(TrainConfigSchema.parse({ method: 'gradalign', gradAlignLambda: 0 }).gradAlignLambda).toBe(0);
    expect(TrainConfigSchema.parse({ gradAlignLambda: 100 }).gradAlignLambda).toBe(100);
    for (const bad of [-0.1, 100.5, Number.NaN, '0.2', null]) expect(TrainConfigSchema.safeParse({ gradAlignLambda: bad }).success, String(bad)).toBe(false);
  });

  it('resolves fgsm-rs\'s step α = 1.25ε, no λ on the FC weights and no early stopping unless asked', () => {
    const r = (input: object) => resolveTrainConfig(TrainConfigSchema.parse({ method: 'gradalign', ...input }));
    expect(r({}).alpha).toBeCloseTo(10 / 255);
    expect(r({ eps: 16 }).alpha).toBeCloseTo(20 / 255);
    expect(r({}).lambda).toEqual(new Array(7).fill(0));
    expect(r({}).config.earlyStop).toBe(false);
    expect(r({ earlyStop: true }).config.earlyStop).toBe(true);
    expect(TRAINING_METHODS.gradalign.forwardEquivalents({} as StepContext)).toBe(18);
    expect(createMethod(TrainConfigSchema.parse({ method: 'gradalign', gradAlignLambda: 0 })).forwardEquivalents({} as StepContext)).toBe(6);
  });
});
