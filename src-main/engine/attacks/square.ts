// Square Attack, L∞ (Andriushchenko, Croce, Flammarion & Hein, ECCV 2020): a score-based black-box
// attack. Start from vertical stripes of ±ε; at each query change one random square window to a
// new random vertex of the ε-ball (one sign per channel) and keep it if the margin loss drops.
// The window side shrinks with the schedule p(i) (p_init = 0.8, halved at fixed query counts).
// It needs only the model's scores, so it also attacks non-differentiable models (the early-exit one).
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import { headLogits, objectiveMargin, type SingleTarget } from './objective';
import type { AttackOutcome } from './attack';
import { Rng } from '../../random';

export interface SquareOptions {
  eps: number;
  /** Query budget (5000 in AutoAttack standard). */
  queries: number;
  pInit?: number;
  /**
   * Stretch the p schedule (written for 10 000 queries) to the query budget. AutoAttack runs
   * Square without rescaling; reduced budgets in tests read better with it.
   */
  rescaleSchedule?: boolean;
  seed?: number;
}

/** Per-sample margin (> 0: still correctly classified) of a batch: what Square minimises. */
export type MarginFn = (x: tf.Tensor4D, y: tf.Tensor1D) => tf.Tensor1D;

export const objectiveMarginFn = (net: MultiExitNet, target: SingleTarget): MarginFn => (x, y) => objectiveMargin(headLogits(net, x, target), y);

/** Fraction of pixels a window covers at query i (the schedule of the paper's code). */
function squareFraction(i: number, queries: number, pInit: number, rescale: boolean): number {
  const it = rescale ? Math.floor((i / queries) * 10000) : i;
  // Past each query count, p_init is divided by the paired factor.
  const steps: Array<[number, number]> = [[10, 2], [50, 4], [200, 8], [500, 16], [1000, 32], [2000, 64], [4000, 128], [6000, 256], [8000, 512]];
  let divisor = 1;
  for (const [after, d] of steps) if (it > after) divisor = d;
  return pInit / divisor;
}

async function marginsOf(fn: MarginFn, x: Float32Array, shape: [number, number, number, number], y: tf.Tensor1D): Promise<Float32Array> {
  const t = tf.tidy(() => fn(tf.tensor(x, shape) as tf.Tensor4D, y));
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** Square Attack on a batch in NHWC. Returns the best point per sample and whether its margin reached ≤ 0. */
export async function square(x: tf.Tensor4D, y: tf.Tensor1D, marginFn: MarginFn, opts: SquareOptions): Promise<AttackOutcome> {
  const [n, h, w, c] = x.shape;
  const dim = h * w * c;
  const eps = opts.eps;
  const pInit = opts.pInit ?? 0.8;
  const rng = new Rng(opts.seed ?? 0);
  const x0 = (await x.data()) as Float32Array;
  const labels = (await y.data()) as Int32Array | Float32Array;
  const clip = (v: number, i: number) => Math.min(Math.min(1, x0[i] + eps), Math.max(Math.max(0, x0[i] - eps), v));

  // Vertical stripes: one sign per (sample, column, channel), the same down each column.
  const best = new Float32Array(n * dim);
  for (let s = 0; s < n; s++) {
    for (let col = 0; col < w; col++) {
      for (let ch = 0; ch < c; ch++) {
        const sign = rng.sign();
        for (let row = 0; row < h; row++) {
          const i = s * dim + (row * w + col) * c + ch;
          best[i] = clip(x0[i] + sign * eps, i);
        }
      }
    }
  }
  const bestMargin = await marginsOf(marginFn, best, x.shape, y);

  for (let q = 1; q < opts.queries; q++) {
    const active: number[] = [];
    for (let s = 0; s < n; s++) if (bestMargin[s] > 0) active.push(s);
    if (active.length === 0) break;
    const side = Math.max(Math.round(Math.sqrt(squareFraction(q, opts.queries, pInit, opts.rescaleSchedule ?? false) * h * w)), 1);
    const cand = new Float32Array(active.length * dim);
    active.forEach((s, k) => {
      cand.set(best.subarray(s * dim, (s + 1) * dim), k * dim);
      const top = rng.int(h - side + 1);
      const left = rng.int(w - side + 1);
      for (let ch = 0; ch < c; ch++) {
        const sign = rng.sign();
        for (let row = top; row < top + side; row++) {
          for (let col = left; col < left + side; col++) {
            const local = (row * w + col) * c + ch;
            // best + 2ε·sign projected onto the ball is the vertex x0 ± ε (then the box).
            cand[k * dim + local] = clip(best[s * dim + local] + 2 * sign * eps, s * dim + local);
          }
        }
      }
    });
    const ySub = tf.tensor1d(active.map((s) => labels[s]), 'int32');
    const margins = await marginsOf(marginFn, cand, [active.length, h, w, c], ySub);
    ySub.dispose();
    active.forEach((s, k) => {
      if (margins[k] < bestMargin[s] || margins[k] <= 0) {
        bestMargin[s] = margins[k];
        best.set(cand.subarray(k * dim, (k + 1) * dim), s * dim);
      }
    });
  }
  return { xAdv: tf.tensor(best, x.shape) as tf.Tensor4D, fooled: Uint8Array.from(bestMargin, (m) => (m <= 0 ? 1 : 0)) };
}
