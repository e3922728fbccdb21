// FGSM (Goodfellow et al. 2015) and FGSM with random start (Wong et al. 2020), L∞, on any exit
// target: one step of the sign-gradient core.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { pgd } from './pgd';

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

export function fgsm(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: FgsmOptions): tf.Tensor4D {
  return pgd(net, x, y, { ...opts, steps: 1, restarts: 1 });
}
