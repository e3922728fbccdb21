// The webgpu backend against the cpu backend on tiny shapes: a lone convolution whose shape would
// expose a transposed kernel or a misplaced padding, then a tiny MSDNet's logits, input and weight
// gradients, one fgsm-me and one pgd-at step, and APGD-CE; then its memory over 50 steps and its
// faults. Errors are relative: max |webgpu − cpu| / max |cpu| over each tensor. CI runs this on
// SwiftShader (a CPU Vulkan driver), so every shape is tiny; the tests skip only where no adapter
// can be created, and fail instead when EXITLAB_REQUIRE_WEBGPU is set (as .ci/run does).
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/engine/backends/select';
import { currentWebGpuSession, registerWebGpuBackend } from '../../../src-main/engine/backends/webgpu';
import { averageLoss, exitLosses } from '../../../src-main/engine/attacks/loss';
import { apgd } from '../../../src-main/engine/attacks/apgd';
import { createMethod } from '../../../src-main/engine/train/methods';
import { trainStep } from '../../../src-main/engine/train/step';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';
import { classifyFailure } from '../../../src-main/engine/process/failure';
import { readCheckpoint, snapshot, writeCheckpoint } from '../../../src-main/engine/train/checkpoint';
import { randomBatch, tinyNet } from '../../helpers/tiny-net';
import { tinyBatch, tinyExitNet } from '../../helpers/tiny-exit-net';
import { relError } from '../../helpers/relative-error';
import { filterGradChunks } from '../../../src-main/engine/kernels/webgpu-conv2d-backprop-filter';

const probe = await selectBackend('webgpu').catch((err: Error) => err);
const available = !(probe instanceof Error);
if (!available) {
  if (process.env.EXITLAB_REQUIRE_WEBGPU) throw new Error(`EXITLAB_REQUIRE_WEBGPU is set but webgpu cannot start: ${probe.message}`);
  console.warn(`webgpu tests skipped: ${probe.message}`);
}

type Out = tf.Tensor | number;

/** Runs `fn` on cpu then on webgpu and returns both results as arrays. */
async function onBoth(fn: () => Promise<Out[]> | Out[]): Promise<{ cpu: Float32Array[]; gpu: Float32Array[] }> {
  const run = async (backend: 'cpu' | 'webgpu') => {
    await selectBackend(backend);
    const outs = await fn();
    const values = await Promise.all(outs.map(async (o) => (typeof o === 'number' ? Float32Array.of(o) : Float32Array.from(await o.data()))));
    tf.dispose(outs.filter((o): o is tf.Tensor => typeof o !== 'number'));
    return values;
  };
  return { cpu: await run('cpu'), gpu: await run('webgpu') };
}

/** The worst relative error over corresponding tensors, and that every tensor is not all zeros. */
function worst({ cpu, gpu }: { cpu: Float32Array[]; gpu: Float32Array[] }): number {
  expect(gpu).toHaveLength(cpu.length);
  for (const c of cpu) expect(c.some((v) => v !== 0)).toBe(true);
  return Math.max(...cpu.map((c, i) => relError(gpu[i], c)));
}

const EPS = 8 / 255;
const NET = { blocks: 2, channels: 4, growthRate: 2, scales: 2, classifierChannels: 4 };
const measured: Record<string, number> = {};

/** A new device, without an earlier test's fault. */
async function freshDevice() {
  tf.removeBackend('webgpu');
  registerWebGpuBackend();
  await tf.setBackend('webgpu');
  const session = currentWebGpuSession()!;
  expect(session.fault()).toBeNull();
  return session;
}

describe.skipIf(!available)('webgpu backend', () => {
  it('reports its adapter', () => {
    const report = probe as Exclude<typeof probe, Error>;
    expect(report.backend).toBe('webgpu');
    expect(report.adapter).toMatchObject({ vendor: expect.any(String), description: expect.any(String), software: expect.any(Boolean) });
    expect(tf.findBackend('webgpu')).toBeDefined();
  });

  // 7×6 input, 3×2 kernel, stride 2 ('same' pads width 6 by 0 before and 1 after), and an explicit
  // lopsided padding with a 2×3 kernel: a kernel read transposed or flipped, or padding on the
  // wrong side, moves whole rows or columns and gives relative errors near 1.
  const cases = [
    { name: 'stride 2, same (asymmetric) padding, 3×2 kernel', filter: [3, 2, 3, 5], strides: 2, pad: 'same' as const },
    {
      name: 'stride 1, explicit padding [2,0]×[0,1], 2×3 kernel', filter: [2, 3, 3, 5], strides: 1,
      pad: [[0, 0], [2, 0], [0, 1], [0, 0]] as tf.backend_util.ExplicitPadding,
    },
  ];
  for (const c of cases) {
    it(`conv2d forward, input and filter gradients match cpu: ${c.name}`, async () => {
      const conv = (flip: boolean) => () => {
        const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
        const raw = tf.randomNormal(c.filter as [number, number, number, number], 0, 1, 'float32', 2) as tf.Tensor4D;
        const w = flip ? tf.reverse(raw, [0, 1]) : raw;
        const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, c.strides, c.pad);
        const y = f(x, w);
        const r = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)))([x, w]);
        return [y, dx, dw];
      };
      const result = await onBoth(conv(false));
      const error = worst(result);
      measured[`conv ${c.name}`] = error;
      expect(error).toBeLessThan(1e-5);
      // The same comparison against a flipped kernel is far off: the test can see such a bug.
      const flipped = await onBoth(conv(true));
      expect(relError(flipped.cpu[0], result.cpu[0])).toBeGreaterThan(0.1);
    });
  }

  // 40 terms need four groups of at most 11 (SwiftShader binds 12 storage buffers per shader, the
  // output among them), one group of only 7, and a second round: a term dropped or counted twice
  // shifts the sum by a whole term.
  it('adds more tensors than one shader can bind, as on cpu', async () => {
    const result = await onBoth(() => [tf.addN(Array.from({ length: 40 }, (_, i) => tf.randomNormal([3, 5], 0, 1, 'float32', i + 1)))]);
    measured.addN = worst(result);
    expect(measured.addN).toBeLessThan(1e-5);
  });

  // A 3×3×32×32 filter splits the 7 (image, row) pairs of the sum into chunks of 2, 2, 2 and 1:
  // a chunk's bounds off by one row would drop or double a row of the sum.
  it('the filter gradient summed in uneven chunks matches cpu', async () => {
    expect(filterGradChunks(7, 3 * 3 * 32 * 32)).toEqual({ chunks: 4, rowsPerChunk: 2 });
    const result = await onBoth(() => {
      const x = tf.randomNormal([1, 7, 5, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
      const dy = tf.randomNormal([1, 7, 5, 32], 0, 1, 'float32', 5) as tf.Tensor4D;
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 32] };
      return [tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor];
    });
    measured['filter gradient in chunks'] = worst(result);
    expect(measured['filter gradient in chunks']).toBeLessThan(1e-5);
  });

  it('MSDNet: every exit’s logits, the input gradient and the weight gradients match cpu', async () => {
    const { x, y } = randomBatch(2, 5);
    const result = await onBoth(() => {
      const net = tinyNet(1, NET);
      const logits = tf.tidy(() => [...net.forward(x, false), ...net.forward(x, true)]);
      const loss = (input: tf.Tensor) => averageLoss(exitLosses(net.forward(input as tf.Tensor4D, true), y)).mean() as tf.Scalar;
      const dx = tf.grad(loss)(x);
      const { grads } = tf.variableGrads(() => loss(x), net.trainableVariables);
      const weights = net.trainableVariables.map((v) => grads[v.name]);
      net.dispose();
      return [...logits, dx, ...weights];
    });
    const exits = result.cpu.length;
    expect(exits).toBeGreaterThan(8);
    const split = (from: number, to: number) => worst({ cpu: result.cpu.slice(from, to), gpu: result.gpu.slice(from, to) });
    measured.logits = split(0, 4);
    measured.inputGradient = split(4, 5);
    measured.weightGradients = split(5, exits);
    expect(measured.logits).toBeLessThan(1e-4);
    expect(measured.inputGradient).toBeLessThan(1e-3);
    expect(measured.weightGradients).toBeLessThan(1e-3);
  });

  for (const name of ['fgsm-me', 'pgd-at', 'gradalign'] as const) {
    it(`one ${name} training step gives the same loss and weights as on cpu`, async () => {
      const { x, y } = randomBatch(2, 6);
      const result = await onBoth(async () => {
        const net = tinyNet(2, NET);
        const method = createMethod({ method: name, pgdSteps: 2, tradesBeta: 6, freeReplays: 2, gradAlignLambda: 0.2 });
        const ctx = { net, eps: EPS, alpha: method.defaultAlpha(8) / 255, lambda: new Array(net.exitCount).fill(0.1), seed: 7 };
        const opt = new SgdMomentum(net.trainableVariables, 0.9, 5e-4);
        const loss = await trainStep(method, ctx, x, y, net.trainableVariables, opt, () => 0.1);
        const weights = net.trainableVariables.map((v) => v.clone());
        opt.dispose();
        method.dispose?.();
        net.dispose();
        return [loss, ...weights];
      });
      measured[name] = worst(result);
      expect(measured[name]).toBeLessThan(1e-4);
    });
  }

  it('APGD-CE finds the same points as on cpu', async () => {
    const { x, y } = randomBatch(2, 8);
    const result = await onBoth(async () => {
      const net = tinyNet(3, NET);
      const { xAdv, fooled } = await apgd(net, x, y, {
        eps: EPS, norm: 'linf', steps: 2, restarts: 1, loss: 'ce', target: { kind: 'exit', index: net.exitCount - 1 }, seed: 1,
      });
      net.dispose();
      return [tf.sub(xAdv, x), ...Array.from(fooled)];
    });
    measured['apgd-ce'] = relError(result.gpu[0], result.cpu[0]);
    expect(result.gpu.slice(1)).toEqual(result.cpu.slice(1));
    // Signed steps: a coordinate whose gradient is near zero may step the other way; few may.
    expect(measured['apgd-ce']).toBeLessThan(1e-3);
  });

  it('a checkpoint written on webgpu loads on wasm and gives the same logits', async () => {
    await selectBackend('webgpu');
    const net = tinyNet(5, NET);
    tf.tidy(() => net.trainableVariables.forEach((v, i) => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', i)))));
    const file = path.join(os.tmpdir(), `exitlab-webgpu-${process.pid}.ckpt`);
    const weights = await snapshot(net.trainableVariables.map((tensor, i) => ({ name: String(i), tensor })));
    writeCheckpoint(file, { epoch: 1, batchesDone: 0, state: {}, weights, optimizer: [] });
    // The images are made on each backend: webgpu cannot hand a tensor to another one (below).
    const logits = (n: typeof net) => Promise.all(tf.tidy(() => n.forward(randomBatch(2, 10).x, false)).map(async (t) => Float32Array.from(await t.data())));
    const onGpu = await logits(net);
    net.dispose();
    await selectBackend('wasm');
    const restored = tinyNet(6, NET);
    readCheckpoint(file).weights.forEach((w, i) => restored.trainableVariables[i].assign(tf.tensor(w.data, w.shape)));
    const onWasm = await logits(restored);
    restored.dispose();
    fs.rmSync(file, { force: true });
    measured.checkpointOnWasm = worst({ cpu: onWasm, gpu: onGpu });
    expect(measured.checkpointOnWasm).toBeLessThan(1e-4);
  });

  // A two-exit net on 2×2 images: 50 MSDNet steps take minutes on SwiftShader.
  it('holds the same tensors and GPU bytes after 50 training steps as after 5', async () => {
    await selectBackend('webgpu');
    const net = tinyExitNet('relu');
    const method = createMethod({ method: 'fgsm-me', pgdSteps: 2, tradesBeta: 6, freeReplays: 2, gradAlignLambda: 0.2 });
    const ctx = { net, eps: EPS, alpha: method.defaultAlpha(8) / 255, lambda: [0.1, 0.1], seed: 1 };
    const opt = new SgdMomentum(net.trainableVariables, 0.9, 5e-4);
    const { x, y } = tinyBatch(4, 9);
    const snapshots: Array<{ tensors: number; bytes: number }> = [];
    for (let step = 1; step <= 50; step++) {
      await trainStep(method, { ...ctx, seed: step }, x, y, net.trainableVariables, opt, () => 0.01);
      const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
      if (step === 5 || step === 50) snapshots.push({ tensors: m.numTensors, bytes: m.numBytesInGPU });
    }
    expect(snapshots[1]).toEqual(snapshots[0]);
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
  }, 120_000);

  it('says why a tensor on the GPU cannot be read synchronously', async () => {
    await selectBackend('webgpu');
    // Large enough that tfjs does not compute it on the CPU instead.
    const onGpu = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
    expect(() => onGpu.dataSync()).toThrow(/webgpu cannot read a tensor synchronously in Node/);
    expect((await onGpu.data())[0]).toBe(64);
    onGpu.dispose();
  });

  it('a tensor larger than the adapter allows fails the next read as out of memory, instead of returning garbage', async () => {
    await selectBackend('webgpu');
    const limit = currentWebGpuSession()!;
    expect(limit.fault()).toBeNull();
    // One float more than the largest buffer the adapter allows (1 GiB on SwiftShader).
    const huge = tf.fill([2 ** 28 + 1], 1);
    const sum = tf.sum(huge);
    const err = await sum.data().then(() => null, (e: Error) => e);
    expect(classifyFailure(err, 8)).toEqual({
      kind: 'out-of-memory',
      message: expect.stringMatching(
        /^out of memory: GPU out of memory: Buffer size \(1073741828\) exceeds the max buffer size limit.*\(batch size 8 does not fit: try 4 or a smaller model\)$/,
      ),
    });
    tf.dispose([huge, sum]);
  });

  it('running out of GPU memory fails the run naming the batch size', async () => {
    const session = await freshDevice();
    // Dawn reports an allocation the GPU cannot back as this event; SwiftShader cannot be made to.
    const { GPUOutOfMemoryError } = globalThis as unknown as { GPUOutOfMemoryError: new (message: string) => object };
    session.device.onuncapturederror!({ error: new GPUOutOfMemoryError('Allocation failed') as never });
    const err = await tf.add(tf.ones([4]), 1).data().then(() => null, (e: Error) => e);
    expect(classifyFailure(err, 64)).toEqual({
      kind: 'out-of-memory', message: 'out of memory: GPU out of memory: Allocation failed (batch size 64 does not fit: try 32 or a smaller model)',
    });
  });

  it('a lost device fails the run with a message that says so', async () => {
    const session = await freshDevice();
    session.device.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t = tf.add(tf.ones([4]), 1);
    const err = await t.data().then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(classifyFailure(err!)).toEqual({ kind: 'error', message: expect.stringMatching(/^GPU device lost \(destroyed\)/) });
    console.log(`webgpu vs cpu, relative errors: ${JSON.stringify(measured)}`);
  });
});
