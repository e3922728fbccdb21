// Gradient of FusedBatchNorm with the fewest passes over the activations. tfjs's version tiles the
// per-channel factor to the full tensor shape and recomputes products per input (about 14 full-size
// passes, two of them held until the whole backward pass ends); this one makes 5: Σdy,
// Σdy·(x−μ) (sub, mul, sum) and dx, and keeps only per-channel vectors alive. Same mathematics,
// for every backend.
import * as tf from '@tensorflow/tfjs';
import { attrsOf } from './override';

function sumTo(t: tf.Tensor, shape: number[], reductionAxes: number[]): tf.Tensor {
  return tf.reshape(reductionAxes.length ? tf.sum(t, reductionAxes) : t, shape);
}

export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrsOf<tf.FusedBatchNormAttrs>(attrs);
    const [x, mean, variance, scale] = saved;
    const g = dy as tf.Tensor;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const gamma = scale ?? tf.scalar(1);
    const rstd = tf.rsqrt(tf.add(variance, varianceEpsilon));
    // Per-channel sums shared by several inputs' gradients; the full-size temporaries die here.
    const sumDy = tf.tidy(() => sumTo(g, mean.shape, axes));
    const sumDyXm = tf.tidy(() => sumTo(tf.mul(g, tf.sub(x, mean)), mean.shape, axes));
    return {
      x: () => tf.mul(g, tf.mul(gamma, rstd)),
      mean: () => tf.neg(tf.mul(sumDy, tf.mul(gamma, rstd))),
      variance: () => tf.mul(sumDyXm, tf.mul(gamma, tf.mul(-0.5, tf.pow(rstd, 3)))),
      scale: () => tf.mul(sumDyXm, rstd),
      // A clone: the tape may dispose a returned gradient while `mean` still needs sumDy.
      offset: () => tf.clone(sumDy),
    };
  },
};
