// Our FusedBatchNorm gradient against tfjs's own, through a training-mode batch norm (batch
// statistics, so the gradient also flows through the mean and variance).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { registerGradients } from '../../../../src-main/engine/kernels';
import { fusedBatchNormGradConfig } from '../../../../src-main/engine/kernels/batch-norm-grad';

function grads(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal([4, 5, 3, 6], 1, 2, 'float32', 1) as tf.Tensor4D;
    const gamma = tf.randomNormal([6], 1, 0.3, 'float32', 2);
    const beta = tf.randomNormal([6], 0, 0.3, 'float32', 3);
    const weight = tf.randomNormal([4, 5, 3, 6], 0, 1, 'float32', 4);
    const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xi, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(xi, mean, variance, b, g, 1e-3), weight));
    };
    return tf.grads(f)([x, gamma, beta]).map((t) => t.dataSync() as Float32Array);
  });
}

describe('batch norm gradient', () => {
  it('matches tfjs for x, scale and offset', async () => {
    await tf.setBackend('cpu');
    expect(tf.getGradient(tf.FusedBatchNorm)).not.toBe(fusedBatchNormGradConfig);
    const reference = grads();
    registerGradients();
    expect(tf.getGradient(tf.FusedBatchNorm)).toBe(fusedBatchNormGradConfig);
    const ours = grads();
    ours.forEach((g, i) => {
      const scale = Math.max(...reference[i].map(Math.abs));
      g.forEach((v, j) => expect(Math.abs(v - reference[i][j])).toBeLessThan(1e-4 * scale));
    });
  });

  it('leaves no tensors behind', async () => {
    await tf.setBackend('cpu');
    registerGradients();
    const before = tf.memory().numTensors;
    grads();
    expect(tf.memory().numTensors).toBe(before);
  });
});
