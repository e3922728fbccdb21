// Early-exit (budgeted, "anytime") inference: an image leaves at the first exit whose softmax
// confidence reaches a threshold, the last exit always answers. One global threshold per budget,
// calibrated on held-out clean images so that their mean cost stays within the budget; mean cost
// grows with the threshold, so the largest threshold within budget gives the best accuracy.
import * as tf from '@tensorflow/tfjs';
import type { ModelSummary } from '../../../src-shared/engine-messages';

/** A threshold above every confidence: every image goes to the last exit. */
const NEVER_EARLY = 2;

export interface ExitCosts {
  /** Multiply-accumulates per image when it leaves at exit k (everything computed on its way). */
  macs: number[];
  /** How the costs were counted, for reports. */
  model: string;
}

/**
 * Cost of leaving at each exit. The summary counts, per exit, the trunk up to it and its own head;
 * an image leaving at exit k has also run the heads of exits 0…k−1, which count when the summary
 * gives head sizes (`headMacs`). Otherwise the earlier heads are left out and the report says so.
 */
export function exitCosts(summary: ModelSummary): ExitCosts {
  const perExit = summary.perExit as Array<ModelSummary['perExit'][number] & { headMacs?: number }>;
  const heads = perExit.map((e) => e.headMacs);
  if (heads.every((h) => typeof h === 'number')) {
    let earlier = 0;
    const macs = perExit.map((e, k) => {
      const cost = e.macs + earlier;
      earlier += heads[k]!;
      return cost;
    });
    return { macs, model: 'trunk up to the exit plus every head evaluated on the way' };
  }
  return { macs: perExit.map((e) => e.macs), model: 'trunk up to the exit plus its own head (earlier heads not counted)' };
}

/** Max-softmax confidence of each exit, [n × exits] row-major, and the predicted class per exit. */
export async function confidences(logits: tf.Tensor2D[]): Promise<{ conf: Float32Array; pred: Int32Array; n: number; exits: number }> {
  const n = logits[0].shape[0];
  const exits = logits.length;
  const [c, p] = tf.tidy(() => [
    tf.stack(logits.map((l) => tf.max(tf.softmax(l), 1)), 1),
    tf.stack(logits.map((l) => tf.argMax(l, 1)), 1),
  ]);
  const [conf, pred] = await Promise.all([c.data(), p.data()]);
  tf.dispose([c, p]);
  return { conf: conf as Float32Array, pred: Int32Array.from(pred), n, exits };
}

/** Exit each image leaves at under a threshold. */
export function exitTaken(conf: Float32Array, n: number, exits: number, threshold: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < exits - 1 && conf[i * exits + k] < threshold) k++;
    out[i] = k;
  }
  return out;
}

export function meanCost(taken: Int32Array, costs: number[]): number {
  let sum = 0;
  for (const k of taken) sum += costs[k];
  return taken.length ? sum / taken.length : 0;
}

export interface Calibration {
  /** Target mean MACs per image. */
  budget: number;
  threshold: number;
  /** Mean MACs per image and accuracy on the calibration images at that threshold. */
  calibrationMacs: number;
  calibrationAccuracy: number;
  /** False when even sending everything to the first exit costs more than the budget. */
  feasible: boolean;
}

/** Largest threshold whose mean cost on the calibration images stays within the budget. */
export function calibrateThreshold(
  conf: Float32Array, pred: Int32Array, labels: ArrayLike<number>, n: number, exits: number, costs: number[], budget: number,
): Calibration {
  const candidates = [0, ...new Set(Array.from(conf).filter((_, i) => i % exits !== exits - 1))].sort((a, b) => a - b);
  candidates.push(NEVER_EARLY);
  const cost = (t: number) => meanCost(exitTaken(conf, n, exits, t), costs);
  // cost(t) is non-decreasing in t: binary search for the last candidate within budget.
  let lo = 0;
  let hi = candidates.length - 1;
  if (cost(candidates[0]) > budget) hi = 0;
  else {
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (cost(candidates[mid]) <= budget) lo = mid;
      else hi = mid - 1;
    }
  }
  const threshold = candidates[lo];
  const taken = exitTaken(conf, n, exits, threshold);
  let correct = 0;
  for (let i = 0; i < n; i++) if (pred[i * exits + taken[i]] === labels[i]) correct++;
  return { budget, threshold, calibrationMacs: meanCost(taken, costs), calibrationAccuracy: n ? correct / n : 0, feasible: cost(candidates[0]) <= budget };
}

/** Share of images leaving at each exit. */
export function exitShare(taken: Int32Array, exits: number): number[] {
  const counts = new Array(exits).fill(0);
  for (const k of taken) counts[k]++;
  return counts.map((c) => (taken.length ? c / taken.length : 0));
}
