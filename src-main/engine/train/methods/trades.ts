import * as tf from '@tensorflow/tfjs';
import { exitLosses } from '../../attacks/loss';
import { projectLinf } from '../../attacks/ball';
import type { TrainingMethod } from './types';
import { fcPenalty } from './penalty';

/** KL(softmax(p) ‖ softmax(q)) per sample. */
export function klDivergence(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor1D {
  const logP = tf.logSoftmax(p);
  return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, tf.logSoftmax(q))), -1) as tf.Tensor1D;
}

/**
 * TRADES (Zhang et al., ICML 2019): x' maximises KL(f(x) ‖ f(x')) by k PGD steps (α = 2/255) from
 * x + 0.001·N(0,1), with batch norm in inference mode as in their code, averaged over the exits;
 * then loss = Σ_exits [CE(f(x), y) + β·KL(f(x) ‖ f(x'))] + Σ λ_i ‖W_fc,i‖².
 */
export function trades(steps: number, beta: number): TrainingMethod {
  return {
    craft: (ctx, x) => {
      const natural = tf.tidy(() => ctx.net.forward(x, false));
      const klSum = (xi: tf.Tensor) => tf.div(
        tf.addN(ctx.net.forward(xi as tf.Tensor4D, false).map((l, e) => tf.sum(klDivergence(natural[e], l)))), natural.length,
      ) as tf.Scalar;
      let xAdv = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(0.001, tf.randomNormal(x.shape, 0, 1, 'float32', ctx.seed))), 0, 1) as tf.Tensor4D);
      for (let k = 0; k < steps; k++) {
        const next = tf.tidy(() => projectLinf(tf.add(xAdv, tf.mul(ctx.alpha, tf.sign(tf.grad(klSum)(xAdv)))) as tf.Tensor4D, x, ctx.eps));
        xAdv.dispose();
        xAdv = next;
      }
      tf.dispose(natural);
      return xAdv;
    },
    loss: (ctx, x, crafted, y) => {
      const natural = ctx.net.forward(x, true);
      const adv = ctx.net.forward(crafted, true);
      const ce = tf.addN(exitLosses(natural, y).map((l) => tf.mean(l)));
      const kl = tf.addN(natural.map((n, e) => tf.mean(klDivergence(n, adv[e]))));
      return { loss: tf.addN([ce, tf.mul(beta, kl), fcPenalty(ctx.net, ctx.lambda)]) as tf.Scalar, logits: adv };
    },
    /** One clean forward and k forward + backward passes to craft; two forwards and their backward to train. */
    forwardEquivalents: () => 3 * steps + 7,
    defaultAlpha: () => 2,
  };
}
