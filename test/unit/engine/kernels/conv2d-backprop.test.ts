// The wasm convolution gradients (our kernels) against tfjs's reference cpu backend.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src-main/engine/backends/select';
import { relError } from '../../../helpers/relative-error';

type Pad = 'same' | 'valid';
/** batch, height, width, in channels, out channels, kernel h, kernel w, stride, padding */
type Case = [number, number, number, number, number, number, number, number, Pad];

const CASES: Case[] = [
  [2, 8, 8, 3, 4, 3, 3, 1, 'same'],
  [2, 8, 8, 3, 4, 3, 3, 2, 'same'],
  [2, 7, 7, 3, 5, 3, 3, 2, 'same'],
  [1, 9, 6, 2, 3, 3, 3, 1, 'valid'],
  [2, 8, 8, 2, 3, 3, 3, 2, 'valid'], // the last row and column are never read
  [1, 7, 5, 3, 2, 5, 5, 1, 'same'],
  [2, 11, 9, 2, 3, 5, 5, 2, 'valid'],
  [2, 6, 6, 4, 8, 1, 1, 1, 'same'], // pointwise, Ci < Co
  [2, 6, 5, 8, 3, 1, 1, 1, 'valid'], // pointwise, Ci > Co
  [2, 6, 5, 13, 3, 1, 1, 1, 'same'], // pointwise, Ci ≥ 3·Co: dY is the packed operand
  [1, 5, 7, 2, 9, 1, 1, 1, 'valid'], // pointwise, Co ≥ 3·Ci, batch 1: X is the packed operand
  [2, 7, 7, 3, 4, 1, 1, 2, 'same'], // strided 1x1: half of dx is zero
  [1, 10, 9, 3, 4, 3, 3, 3, 'same'],
  [2, 9, 9, 3, 2, 4, 2, 2, 'same'], // even, non-square kernel
  [1, 1, 1, 3, 4, 3, 3, 1, 'same'],
];

interface Grads {
  dx: Float32Array;
  dw: Float32Array;
}

function run(c: Case): Grads {
  const [b, h, w, ci, co, kh, kw, stride, pad] = c;
  return tf.tidy(() => {
    const x = tf.randomNormal([b, h, w, ci], 0, 1, 'float32', 11) as tf.Tensor4D;
    const filter = tf.randomNormal([kh, kw, ci, co], 0, 1, 'float32', 12) as tf.Tensor4D;
    const y = tf.conv2d(x, filter, stride, pad);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 13) as tf.Tensor4D;
    const dw = tf.engine().runKernel(
      'Conv2DBackpropFilter', { x, dy }, { strides: stride, pad, dataFormat: 'NHWC', filterShape: [kh, kw, ci, co] },
    ) as tf.Tensor;
    const dx = tf.engine().runKernel(
      'Conv2DBackpropInput', { dy, filter }, { strides: stride, pad, dataFormat: 'NHWC', inputShape: [b, h, w, ci] },
    ) as tf.Tensor;
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await selectBackend(name);
  return f();
}

describe('wasm convolution gradient kernels', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it.each(CASES)('match the cpu backend for %i×%i×%i×%i → %i, kernel %i×%i, stride %i, %s', async (...c) => {
    const ref = await onBackend('cpu', () => run(c));
    const got = await onBackend('wasm', () => run(c));
    expect(relError(got.dw, ref.dw)).toBeLessThan(1e-4);
    expect(relError(got.dx, ref.dx)).toBeLessThan(1e-4);
  });

  it('give the gradients of a conv → relu → conv stack through tf.grads', async () => {
    const grads = () => tf.tidy(() => {
      const x = tf.randomUniform([2, 9, 9, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
      const w1 = tf.randomNormal([3, 3, 3, 4], 0, 0.5, 'float32', 22) as tf.Tensor4D;
      const w2 = tf.randomNormal([1, 1, 4, 5], 0, 0.5, 'float32', 23) as tf.Tensor4D;
      const target = tf.randomNormal([2, 5, 5, 5], 0, 1, 'float32', 24);
      const loss = (xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(tf.relu(tf.conv2d(xi as tf.Tensor4D, a as tf.Tensor4D, 2, 'same')), b as tf.Tensor4D, 1, 'valid'), target));
      return tf.grads(loss)([x, w1, w2]).map((g) => g.dataSync() as Float32Array);
    });
    const ref = await onBackend('cpu', grads);
    const got = await onBackend('wasm', grads);
    ref.forEach((r, i) => expect(relError(got[i], r)).toBeLessThan(1e-4));
  });

  it('free every intermediate buffer', async () => {
    await selectBackend('wasm');
    const backend = tf.engine().backend;
    const x = tf.randomNormal([2, 7, 7, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 4, 4, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = backend.numDataIds();
    const dw = tf.engine().runKernel(
      'Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
    ) as tf.Tensor;
    const dx = tf.engine().runKernel(
      'Conv2DBackpropInput', { dy, filter }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 7, 7, 3] },
    ) as tf.Tensor;
    expect(backend.numDataIds()).toBe(before + 2);
    tf.dispose([x, dy, filter, dw, dx]);
  });
});
