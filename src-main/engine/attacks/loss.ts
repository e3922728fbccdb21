// Losses an attack ascends, for each way of targeting the exits of a multi-exit network.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';

/** Per-sample cross-entropy of each exit's logits against integer labels. */
export function exitLosses(logits: tf.Tensor2D[], y: tf.Tensor1D): tf.Tensor1D[] {
  const numClasses = logits[0].shape[1];
  const onehot = tf.oneHot(tf.cast(y, 'int32'), numClasses);
  return logits.map((l) => tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(l)), -1)) as tf.Tensor1D);
}

export function averageLoss(losses: tf.Tensor1D[]): tf.Tensor1D {
  return tf.div(tf.addN(losses), losses.length) as tf.Tensor1D;
}

/**
 * Per-sample loss for a single-objective target (one exit or the average of all). `max-average`
 * is not one objective but a selection among several attacks; callers handle it (see
 * `forEachObjective`).
 */
export function objectiveLoss(logits: tf.Tensor2D[], y: tf.Tensor1D, target: ExitTarget): tf.Tensor1D {
  if (target.kind === 'max-average') throw new Error('max-average is a selection among objectives, not one loss');
  const losses = exitLosses(target.kind === 'exit' ? [logits[target.index]] : logits, y);
  return target.kind === 'exit' ? losses[0] : averageLoss(losses);
}

/** The single objectives a target stands for: max-average runs one attack per exit plus the average. */
export function objectivesOf(target: ExitTarget, exitCount: number): ExitTarget[] {
  if (target.kind !== 'max-average') return [target];
  return [...Array.from({ length: exitCount }, (_, index) => ({ kind: 'exit', index }) as ExitTarget), { kind: 'average' }];
}

/** Gradient of the summed per-sample objective with respect to the input, and that loss. */
export function inputGradient(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, target: ExitTarget, training: boolean): tf.Tensor4D {
  return tf.grad((xi: tf.Tensor) => tf.sum(objectiveLoss(net.forward(xi as tf.Tensor4D, training), y, target)))(x) as tf.Tensor4D;
}

/**
 * For max-average (Hu et al., ICLR 2020): among candidate adversarial batches, keep per sample the
 * one whose average-over-exits loss is largest.
 */
export function selectByAverageLoss(net: MultiExitNet, candidates: tf.Tensor4D[], y: tf.Tensor1D, training: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    let best = candidates[0];
    let bestLoss = averageLoss(exitLosses(net.forward(best, training), y));
    for (const c of candidates.slice(1)) {
      const loss = averageLoss(exitLosses(net.forward(c, training), y));
      const better = tf.greater(loss, bestLoss);
      best = tf.where(tf.reshape(better, [-1, 1, 1, 1]).broadcastTo(best.shape), c, best) as tf.Tensor4D;
      bestLoss = tf.maximum(loss, bestLoss) as tf.Tensor1D;
    }
    return best;
  });
}

/** Projects onto the L∞ ball of radius eps around x0, intersected with the image box [0,1]. */
export function projectLinf(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(xAdv, tf.sub(x0, eps)), tf.add(x0, eps)), 0, 1) as tf.Tensor4D);
}
