// PGD-k with random start and restarts (Madry et al. 2018), L∞, on any exit target.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { inputGradient, objectiveLoss, objectivesOf, projectLinf, selectByAverageLoss } from './loss';
import { randomStartPoint } from './fgsm';

export interface PgdOptions {
  eps: number;
  alpha: number;
  steps: number;
  restarts: number;
  target: ExitTarget;
  training?: boolean;
  seed?: number;
}

/** One PGD run for a single objective, keeping per sample the restart with the highest loss. */
function pgdSingle(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objective: ExitTarget, opts: PgdOptions, seed: number): tf.Tensor4D {
  const training = opts.training ?? false;
  let best: tf.Tensor4D | null = null;
  let bestLoss: tf.Tensor1D | null = null;
  for (let r = 0; r < opts.restarts; r++) {
    let xAdv = randomStartPoint(x, opts.eps, seed + r);
    for (let k = 0; k < opts.steps; k++) {
      const next: tf.Tensor4D = tf.tidy(() => {
        const g = inputGradient(net, xAdv, y, objective, training);
        return projectLinf(tf.add(xAdv, tf.mul(opts.alpha, tf.sign(g))) as tf.Tensor4D, x, opts.eps);
      });
      xAdv.dispose();
      xAdv = next;
    }
    if (opts.restarts === 1) return xAdv;
    const loss = tf.tidy(() => objectiveLoss(net.forward(xAdv, training), y, objective));
    if (!best || !bestLoss) {
      best = xAdv;
      bestLoss = loss;
      continue;
    }
    const [b, l] = tf.tidy(() => {
      const better = tf.greater(loss, bestLoss!);
      return [
        tf.where(tf.reshape(better, [-1, 1, 1, 1]).broadcastTo(x.shape), xAdv, best!) as tf.Tensor4D,
        tf.maximum(loss, bestLoss!) as tf.Tensor1D,
      ];
    });
    tf.dispose([best, bestLoss, xAdv, loss]);
    best = b;
    bestLoss = l;
  }
  bestLoss?.dispose();
  return best!;
}

export function pgd(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: PgdOptions): tf.Tensor4D {
  const seed = opts.seed ?? 0;
  const candidates = objectivesOf(opts.target, net.exitCount).map((objective, i) => pgdSingle(net, x, y, objective, opts, seed + 1000 * i));
  if (candidates.length === 1) return candidates[0];
  const chosen = selectByAverageLoss(net, candidates, y, opts.training ?? false);
  tf.dispose(candidates);
  return chosen;
}
