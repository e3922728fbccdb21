import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, withOnePassBatchNorm } from '../../../src-main/engine/model/lean-layers';
import { selectBackend } from '../../../src-main/engine/backends/select';
import { useCpu } from '../../helpers/tiny-net';

/** A batch norm layer on [2, 5, 3, 4] inputs with non-trivial γ, β and moving statistics. */
function bnLayer(onePass: boolean): tf.layers.Layer {
  const bn = tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  bn.build([null, 5, 3, 4]);
  bn.setWeights([tf.tensor1d([1.5, 0.5, -1, 2]), tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.tensor1d([0.2, 0, -0.1, 1]), tf.tensor1d([1, 2, 0.5, 3])]);
  if (onePass) withOnePassBatchNorm(bn, 0.9, 1e-5);
  return bn;
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('one-pass training batch norm', () => {
  beforeAll(useCpu);

  it('matches the stock layer: output, moving statistics and every gradient', () => {
    const x = tf.randomNormal([2, 5, 3, 4], 0.3, 2, 'float32', 7) as tf.Tensor4D;
    // A loss that weighs outputs unevenly, so no gradient term cancels by symmetry.
    const w = tf.randomNormal([2, 5, 3, 4], 0, 1, 'float32', 8);
    const results = [false, true].map((onePass) => {
      const bn = bnLayer(onePass);
      const [gamma, beta] = bn.trainableWeights.map((v) => v.read() as tf.Variable);
      const f = (input: tf.Tensor) => tf.sum(tf.mul(bn.apply(input, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      const y = bn.apply(x, { training: true }) as tf.Tensor;
      const moving = bn.getWeights().slice(2);
      const dx = tf.grad(f)(x);
      const { grads } = tf.variableGrads(() => f(x), [gamma, beta]);
      return { y, moving, dx, dGamma: grads[gamma.name], dBeta: grads[beta.name] };
    });
    const [stock, lean] = results;
    expect(maxDiff(stock.y, lean.y)).toBeLessThan(1e-5);
    expect(maxDiff(stock.moving[0], lean.moving[0])).toBeLessThan(1e-6);
    expect(maxDiff(stock.moving[1], lean.moving[1])).toBeLessThan(1e-5);
    expect(maxDiff(stock.dx, lean.dx)).toBeLessThan(1e-4);
    expect(maxDiff(stock.dGamma, lean.dGamma)).toBeLessThan(1e-4);
    expect(maxDiff(stock.dBeta, lean.dBeta)).toBeLessThan(1e-4);
    // The comparison is not vacuous: the input gradient is far from zero.
    expect(tf.max(tf.abs(stock.dx)).dataSync()[0]).toBeGreaterThan(0.1);
  });

  it('leaves inference untouched and leaks no tensors', () => {
    const x = tf.randomNormal([2, 5, 3, 4], 0, 1, 'float32', 9) as tf.Tensor4D;
    const stock = bnLayer(false);
    const lean = bnLayer(true);
    expect(maxDiff(stock.apply(x) as tf.Tensor, lean.apply(x) as tf.Tensor)).toBe(0);
    const before = tf.memory().numTensors;
    const dx = tf.grad((input: tf.Tensor) => tf.sum(lean.apply(input, { training: true }) as tf.Tensor))(x);
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  describe('on wasm, through the batch-norm kernels', () => {
    afterAll(useCpu);

    /** y, statistics and the three gradients of a weighted sum, as plain arrays. */
    function run() {
      return tf.tidy(() => {
        // An offset mean and a spread much smaller than it: the variance must not cancel away.
        const x = tf.add(tf.mul(tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 11), 0.05), 40) as tf.Tensor4D;
        const gamma = tf.tensor1d([1, 2, -0.5, 0.3, 1.1, 0.9]);
        const beta = tf.tensor1d([0, 0.1, 0.2, -0.3, 0.4, 0]);
        const w = tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 12);
        const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-5);
        const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const out = batchNormTraining(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
          tf.dispose([out.mean, out.variance]);
          return tf.sum(tf.mul(out.y, w)) as tf.Scalar;
        };
        const grads = tf.grads(loss)([x, gamma, beta]);
        const result = [y, mean, variance, ...grads].map((t) => Array.from(t.dataSync()));
        tf.dispose([mean, variance]);
        return result;
      });
    }

    it('match the tf-ops formulation on the cpu backend', async () => {
      await selectBackend('cpu');
      const cpu = run();
      await selectBackend('wasm');
      const wasm = run();
      const names = ['y', 'mean', 'variance', 'dx', 'dγ', 'dβ'];
      cpu.forEach((ref, i) => {
        const scale = Math.max(...ref.map(Math.abs));
        const err = Math.max(...ref.map((v, j) => Math.abs(v - wasm[i][j])));
        expect(err / scale, names[i]).toBeLessThan(2e-4);
      });
      // Not vacuous: the input gradient is far from zero.
      expect(Math.max(...cpu[3].map(Math.abs))).toBeGreaterThan(0.1);
    });
  });
});
