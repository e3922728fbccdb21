// FAB-T, L∞ (Croce & Hein, ICML 2020, "Minimally distorted adversarial examples with a fast adaptive
// boundary attack"), targeted version as in AutoAttack: at each step, linearise the decision
// boundary between the true class and a target class, project both the current iterate and the
// original point onto that hyperplane (inside the image box), move to a convex combination of the
// two projections biased towards the original point (α ≤ α_max), overshoot by η; once a point is
// adversarial, keep it if it is the closest so far and step back towards the original by β.
// A sample counts as fooled when its closest adversarial point lies within ε.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import { allHeadsWrong, headLogits, type SingleTarget } from './objective';
import type { AttackOutcome } from './attack';
import { Rng } from '../../random';

export interface FabOptions {
  eps: number;
  /** Iterations per run (100 in AutoAttack). */
  steps: number;
  /** Runs per target; runs after the first start from a random point (1 in AutoAttack standard). */
  restarts: number;
  target: SingleTarget;
  alphaMax?: number;
  /** Overshoot. */
  eta?: number;
  /** Backward step after a success. */
  beta?: number;
  seed?: number;
}

/**
 * Minimal L∞ step d from p onto the hyperplane {z : w·z = b} within the box 0 ≤ p + d ≤ 1. When the
 * box does not reach the hyperplane, the step goes as far as the box allows in the right direction.
 * Returns the step and its L∞ norm. Exact: the coordinates saturate in order of their room.
 */
function projectLinfHyperplane(p: Float32Array, w: Float32Array, b: number): { d: Float32Array; norm: number } {
  const dim = p.length;
  let c = -b;
  for (let i = 0; i < dim; i++) c += w[i] * p[i];
  // Moving along −sign(c·w) lowers |w·z − b|: coordinate i can move by at most room[i].
  const dir = c > 0 ? -1 : 1;
  const need = Math.abs(c);
  const room = new Float32Array(dim);
  const absW = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    absW[i] = Math.abs(w[i]);
    const up = dir * Math.sign(w[i]) > 0;
    room[i] = w[i] === 0 ? 0 : up ? 1 - p[i] : p[i];
  }
  const d = new Float32Array(dim);
  if (need === 0) return { d, norm: 0 };
  const order = Array.from({ length: dim }, (_, i) => i).filter((i) => absW[i] > 0).sort((a, b2) => room[a] - room[b2]);
  // h(λ) = Σ |w_i| min(λ, room_i) is increasing and piecewise linear; find λ with h(λ) = need.
  let slope = 0;
  for (const i of order) slope += absW[i];
  let reached = 0;
  let lambda = -1;
  let prev = 0;
  for (const i of order) {
    const gain = slope * (room[i] - prev);
    if (reached + gain >= need) {
      lambda = prev + (need - reached) / slope;
      break;
    }
    reached += gain;
    slope -= absW[i];
    prev = room[i];
  }
  const limit = lambda < 0 ? Infinity : lambda;
  let norm = 0;
  for (const i of order) {
    const move = Math.min(limit, room[i]);
    d[i] = dir * Math.sign(w[i]) * move;
    norm = Math.max(norm, move);
  }
  return { d, norm };
}

/** Class with the k-th largest mean logit over the objective's heads (k = 2: the runner-up). */
export function rankedClasses(net: MultiExitNet, x: tf.Tensor4D, target: SingleTarget, rank: number): Promise<Int32Array> {
  const t = tf.tidy(() => {
    const heads = headLogits(net, x, target);
    const mean = heads.length === 1 ? heads[0] : tf.div(tf.addN(heads), heads.length);
    const { indices } = tf.topk(mean, rank, true);
    return tf.squeeze(tf.slice(indices, [0, rank - 1], [-1, 1]), [1]);
  });
  return t.data().then((v) => {
    t.dispose();
    return v as Int32Array;
  });
}

/** df = mean over heads of (z_y − z_t) and its input gradient, per sample. */
function boundaryLinearisation(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, yT: tf.Tensor1D, target: SingleTarget): { df: tf.Tensor1D; dg: tf.Tensor4D } {
  let df: tf.Tensor1D | null = null;
  const dg = tf.grad((xi: tf.Tensor) => {
    const heads = headLogits(net, xi as tf.Tensor4D, target);
    const classes = heads[0].shape[1];
    const diff = tf.sub(tf.oneHot(tf.cast(y, 'int32'), classes), tf.oneHot(tf.cast(yT, 'int32'), classes));
    const per = heads.map((l) => tf.sum(tf.mul(l, diff), -1));
    const mean = (per.length === 1 ? per[0] : tf.div(tf.addN(per), per.length)) as tf.Tensor1D;
    df = tf.keep(mean.clone());
    return tf.sum(mean);
  })(x) as tf.Tensor4D;
  return { df: df!, dg };
}

async function fabRun(
  net: MultiExitNet,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  yT: tf.Tensor1D,
  opts: FabOptions,
  randomStart: boolean,
  rng: Rng,
): Promise<{ adv: Float32Array; dist: Float32Array }> {
  const [n, ...rest] = x.shape;
  const dim = rest.reduce((a, b) => a * b, 1);
  const alphaMax = opts.alphaMax ?? 0.1;
  const eta = opts.eta ?? 1.05;
  const beta = opts.beta ?? 0.9;
  const x0 = (await x.data()) as Float32Array;
  const x1 = Float32Array.from(x0);
  const adv = Float32Array.from(x0);
  const dist = new Float32Array(n).fill(Infinity);
  if (randomStart) {
    // Uniform direction scaled to half of ε in L∞, as the reference does for later restarts.
    for (let i = 0; i < n; i++) {
      const t = Array.from({ length: dim }, () => 2 * rng.next() - 1);
      const m = Math.max(...t.map(Math.abs)) || 1;
      for (let j = 0; j < dim; j++) x1[i * dim + j] = Math.min(1, Math.max(0, x0[i * dim + j] + (0.5 * opts.eps * t[j]) / m));
    }
  }
  for (let it = 0; it < opts.steps; it++) {
    const cur = tf.tensor(x1, x.shape) as tf.Tensor4D;
    const { df, dg } = boundaryLinearisation(net, cur, y, yT, opts.target);
    const [dfv, dgv] = await Promise.all([df.data(), dg.data()]);
    tf.dispose([cur, df, dg]);
    for (let i = 0; i < n; i++) {
      const w = dgv.subarray(i * dim, (i + 1) * dim) as Float32Array;
      const p1 = x1.subarray(i * dim, (i + 1) * dim);
      const p0 = x0.subarray(i * dim, (i + 1) * dim);
      // Linearised boundary at x1: df + w·(z − x1) = 0, i.e. w·z = w·x1 − df.
      let b = -dfv[i];
      for (let j = 0; j < dim; j++) b += w[j] * p1[j];
      const from1 = projectLinfHyperplane(p1, w, b);
      const from0 = projectLinfHyperplane(p0, w, b);
      const a1 = Math.max(from1.norm, 1e-8);
      const a2 = Math.max(from0.norm, 1e-8);
      const a = Math.min(Math.max(a1 / (a1 + a2), 0), alphaMax);
      for (let j = 0; j < dim; j++) {
        const v = (p1[j] + eta * from1.d[j]) * (1 - a) + (p0[j] + eta * from0.d[j]) * a;
        p1[j] = Math.min(1, Math.max(0, v));
      }
    }
    const fooledT = tf.tidy(() => allHeadsWrong(headLogits(net, tf.tensor(x1, x.shape) as tf.Tensor4D, opts.target), y));
    const fooled = await fooledT.data();
    fooledT.dispose();
    for (let i = 0; i < n; i++) {
      if (fooled[i] < 0.5) continue;
      const p1 = x1.subarray(i * dim, (i + 1) * dim);
      const p0 = x0.subarray(i * dim, (i + 1) * dim);
      let t = 0;
      for (let j = 0; j < dim; j++) t = Math.max(t, Math.abs(p1[j] - p0[j]));
      if (t < dist[i]) {
        dist[i] = t;
        adv.set(p1, i * dim);
      }
      for (let j = 0; j < dim; j++) p1[j] = p0[j] + (p1[j] - p0[j]) * beta;
    }
  }
  return { adv, dist };
}

/**
 * FAB-T against one target class per sample (`yTarget`). Returns, per sample, the closest
 * adversarial point found if it lies within ε (fooled), else the original point.
 */
export async function fabTargeted(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, yTarget: tf.Tensor1D, opts: FabOptions): Promise<AttackOutcome> {
  const n = x.shape[0];
  const dim = x.size / n;
  const rng = new Rng(opts.seed ?? 0);
  const best = Float32Array.from((await x.data()) as Float32Array);
  const bestDist = new Float32Array(n).fill(Infinity);
  for (let r = 0; r < opts.restarts; r++) {
    const { adv, dist } = await fabRun(net, x, y, yTarget, opts, r > 0, rng);
    for (let i = 0; i < n; i++) {
      if (dist[i] < bestDist[i]) {
        bestDist[i] = dist[i];
        best.set(adv.subarray(i * dim, (i + 1) * dim), i * dim);
      }
    }
  }
  const x0 = (await x.data()) as Float32Array;
  const fooled = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (bestDist[i] <= opts.eps) fooled[i] = 1;
    else best.set(x0.subarray(i * dim, (i + 1) * dim), i * dim);
  }
  return { xAdv: tf.tensor(best, x.shape) as tf.Tensor4D, fooled };
}
