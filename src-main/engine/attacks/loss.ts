// The cross-entropy losses of a multi-exit network as training and the classic attacks use them,
// per exit target, and max-average's choice among the candidates of several objectives.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { crossEntropy, headsOf } from './objective';
import { mergeRows } from './rows';

/** Per-sample cross-entropy of each exit's logits against integer labels (see crossEntropy for the flag). */
export function exitLosses(logits: tf.Tensor2D[], y: tf.Tensor1D, twiceDifferentiable = false): tf.Tensor1D[] {
  return logits.map((l) => crossEntropy(l, y, twiceDifferentiable));
}

export function averageLoss(losses: tf.Tensor1D[]): tf.Tensor1D {
  return tf.div(tf.addN(losses), losses.length) as tf.Tensor1D;
}

/**
 * Per-sample loss for a single-objective target (one exit or the average of all). `max-average`
 * is not one objective but a selection among several attacks; callers handle it (see
 * `objectivesOf`).
 */
export function objectiveLoss(logits: tf.Tensor2D[], y: tf.Tensor1D, target: ExitTarget): tf.Tensor1D {
  if (target.kind === 'max-average') throw new Error('max-average is a selection among objectives, not one loss');
  return averageLoss(exitLosses(headsOf(target, logits.length).map((i) => logits[i]), y));
}

/** The single objectives a target stands for: max-average runs one attack per exit plus the average. */
export function objectivesOf(target: ExitTarget, exitCount: number): Array<Exclude<ExitTarget, { kind: 'max-average' }>> {
  if (target.kind !== 'max-average') return [target];
  return [...Array.from({ length: exitCount }, (_, index) => ({ kind: 'exit', index }) as const), { kind: 'average' } as const];
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
      best = mergeRows(tf.greater(loss, bestLoss) as tf.Tensor1D, c, best);
      bestLoss = tf.maximum(loss, bestLoss) as tf.Tensor1D;
    }
    return best;
  });
}
