// What the trainer watches each epoch: held-out clean / FGSM / PGD-10 accuracy per exit, and the
// catastrophic-overfitting probe (FGSM vs PGD accuracy on a fixed training minibatch).
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SHAPE, IMAGE_VALUES } from '../../../src-shared/datasets';
import type { MultiExitNet } from '../model/multi-exit';
import { fgsm } from '../attacks/fgsm';
import { pgd } from '../attacks/pgd';
import { mixSeed } from '../../random';

export interface HeldOut { x: Float32Array; y: Int32Array; count: number }

export interface RobustAccuracy { clean: number[]; fgsm: number[]; pgd: number[] }

/** Correct counts per exit (clean, FGSM, PGD-10) and the images they were counted on. */
export interface RobustCounts { clean: number[]; fgsm: number[]; pgd: number[]; count: number }

/**
 * Accuracy per exit, clean and under FGSM and PGD-10 (α = 2/255, random start) aimed at the
 * average of the exits' losses: one attack per batch keeps the per-epoch check affordable; the
 * evaluation suite attacks each exit separately.
 */
export async function robustAccuracy(net: MultiExitNet, data: HeldOut, eps: number, batchSize: number, seed: number): Promise<RobustAccuracy> {
  return accuracyOf(await robustCounts(net, data, eps, batchSize, seed));
}

/**
 * The counts behind robustAccuracy. `data` may be a part of a larger set that starts at image
 * `offset` of it: each batch's PGD seed is mixed from the run's seed and the batch's position in the
 * whole set, so parts counted apart (in separate workers) add up to the count of the whole.
 */
export async function robustCounts(net: MultiExitNet, data: HeldOut, eps: number, batchSize: number, seed: number, offset = 0): Promise<RobustCounts> {
  const exits = net.exitCount;
  const correct = { clean: new Array(exits).fill(0), fgsm: new Array(exits).fill(0), pgd: new Array(exits).fill(0) };
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const counts = tf.tidy(() => {
      const x = tf.tensor4d(data.x.subarray(start * IMAGE_VALUES, (start + n) * IMAGE_VALUES), [n, ...IMAGE_SHAPE]);
      const y = tf.tensor1d(data.y.subarray(start, start + n), 'int32');
      const target = { kind: 'average' } as const;
      const inputs = [
        x,
        fgsm(net, x, y, { eps, alpha: eps, randomStart: false, target }),
        pgd(net, x, y, { eps, alpha: 2 / 255, steps: 10, restarts: 1, target, seed: mixSeed(seed, offset + start) }),
      ];
      return tf.stack(inputs.map((input) => tf.stack(net.forward(input, false).map((l) => tf.sum(tf.cast(tf.equal(tf.argMax(l, 1), y), 'float32'))))));
    });
    const values = await counts.data();
    counts.dispose();
    for (let e = 0; e < exits; e++) {
      correct.clean[e] += values[e];
      correct.fgsm[e] += values[exits + e];
      correct.pgd[e] += values[2 * exits + e];
    }
  }
  return { ...correct, count: data.count };
}

/** Adds counts of consecutive parts of a set, in order. */
export function addCounts(parts: RobustCounts[]): RobustCounts {
  const exits = parts[0].clean.length;
  const sum = (k: 'clean' | 'fgsm' | 'pgd') => Array.from({ length: exits }, (_, e) => parts.reduce((a, p) => a + p[k][e], 0));
  return { clean: sum('clean'), fgsm: sum('fgsm'), pgd: sum('pgd'), count: parts.reduce((a, p) => a + p.count, 0) };
}

export function accuracyOf(c: RobustCounts): RobustAccuracy {
  const frac = (v: number[]) => v.map((x) => (c.count ? x / c.count : 0));
  return { clean: frac(c.clean), fgsm: frac(c.fgsm), pgd: frac(c.pgd) };
}

export interface OverfitState {
  /** Best probe PGD accuracy seen per exit, and the probe FGSM accuracy at that epoch. */
  bestPgd: number[];
  fgsmAtBest: number[];
}

export const initialOverfitState = (exits: number): OverfitState => ({ bestPgd: new Array(exits).fill(0), fgsmAtBest: new Array(exits).fill(0) });

/** A collapse of at least this much PGD accuracy (absolute) counts as catastrophic overfitting. */
export const COLLAPSE_DROP = 0.2;

/**
 * Catastrophic overfitting, as Wong et al. detect it for early stopping, made per exit: PGD accuracy
 * on a training minibatch falls by ≥ COLLAPSE_DROP from its best while FGSM accuracy does not fall.
 */
export function detectOverfitting(
  state: OverfitState,
  probe: { fgsm: number[]; pgd: number[] },
): { detected: boolean; exits: number[]; reason: string; next: OverfitState } {
  const exits: number[] = [];
  const next: OverfitState = { bestPgd: state.bestPgd.slice(), fgsmAtBest: state.fgsmAtBest.slice() };
  const reasons: string[] = [];
  probe.pgd.forEach((p, e) => {
    if (state.bestPgd[e] - p >= COLLAPSE_DROP && probe.fgsm[e] >= state.fgsmAtBest[e]) {
      exits.push(e);
      reasons.push(`exit ${e + 1}: PGD ${(100 * state.bestPgd[e]).toFixed(1)}% → ${(100 * p).toFixed(1)}% while FGSM ` +
        `${(100 * state.fgsmAtBest[e]).toFixed(1)}% → ${(100 * probe.fgsm[e]).toFixed(1)}%`);
    }
    if (p > next.bestPgd[e]) {
      next.bestPgd[e] = p;
      next.fgsmAtBest[e] = probe.fgsm[e];
    }
  });
  return { detected: exits.length > 0, exits, reason: reasons.join('; '), next };
}
