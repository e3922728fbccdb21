// FGSM (Goodfellow et al. 2015) and FGSM with random start (Wong et al. 2020), L∞, on any exit target.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { inputGradient, objectivesOf, projectLinf, selectByAverageLoss } from './loss';

export interface FgsmOptions {
  /** Radius and step in [0,1] pixel units. */
  eps: number;
  alpha: number;
  randomStart: boolean;
  target: ExitTarget;
  /** Batch-norm mode while attacking: training-time attacks use batch statistics. */
  training?: boolean;
  seed?: number;
}

export function randomStartPoint(x: tf.Tensor4D, eps: number, seed: number | undefined): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -eps, eps, 'float32', seed)), 0, 1) as tf.Tensor4D);
}

export function fgsm(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: FgsmOptions): tf.Tensor4D {
  const training = opts.training ?? false;
  return tf.tidy(() => {
    const start = opts.randomStart ? randomStartPoint(x, opts.eps, opts.seed) : x;
    const candidates = objectivesOf(opts.target, net.exitCount).map((objective) => {
      const g = inputGradient(net, start, y, objective, training);
      return projectLinf(tf.add(start, tf.mul(opts.alpha, tf.sign(g))) as tf.Tensor4D, x, opts.eps);
    });
    return candidates.length === 1 ? candidates[0] : selectByAverageLoss(net, candidates, y, training);
  });
}
