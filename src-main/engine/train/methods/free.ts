import * as tf from '@tensorflow/tfjs';
import type { TrainingMethod } from './types';
import { multiExitLoss } from './penalty';

/**
 * Free adversarial training, Free-m (Shafahi et al., NeurIPS 2019). Each minibatch is replayed m
 * times; every replay is ONE backward pass that yields both the weight gradient (the trainer's SGD
 * step) and the input gradient, with which the perturbation climbs: δ ← clip(δ + α·sign(∇δ), −ε, ε)
 * (α defaults to ε), kept so that x + δ stays in [0,1]. δ persists across replays and across
 * minibatches, as in the paper. The trainer divides the epoch count by m (see resolveTrainConfig).
 */
export function freeM(replays: number): TrainingMethod {
  let delta: tf.Tensor4D | null = null;
  return {
    replays,
    craft: (_ctx, x) => {
      const n = x.shape[0];
      if (!delta || delta.shape[0] < n) {
        delta?.dispose();
        delta = tf.zeros(x.shape);
      }
      const d = delta;
      return tf.tidy(() => tf.clipByValue(tf.add(x, d.slice(0, n)), 0, 1) as tf.Tensor4D);
    },
    loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
    inputGradient: (ctx, x, gradient) => {
      const old = delta!;
      const n = x.shape[0];
      delta = tf.tidy(() => {
        const stepped = tf.clipByValue(tf.add(old.slice(0, n), tf.mul(ctx.alpha, tf.sign(gradient))), -ctx.eps, ctx.eps);
        const inBox = tf.minimum(tf.maximum(stepped, tf.neg(x)), tf.sub(1, x)) as tf.Tensor4D;
        return n === old.shape[0] ? inBox : tf.concat([inBox, old.slice(n)], 0);
      });
      old.dispose();
    },
    /** Per minibatch: m forward + backward passes. */
    forwardEquivalents: () => 3 * replays,
    defaultAlpha: (eps) => eps,
    dispose: () => {
      delta?.dispose();
      delta = null;
    },
  };
}
