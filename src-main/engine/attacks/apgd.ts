// Auto-PGD (Croce & Hein, ICML 2020): step-size-free PGD with momentum. The step starts at 2ε and
// is halved at checkpoints w_j = ⌈p_j·N⌉ (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03,
// 0.06)) when (1) the loss rose in fewer than ρ = 0.75 of the steps since the last checkpoint, or
// (2) the step was not halved at the last checkpoint and the best loss has not improved since; a
// halving restarts from the best point found. Momentum α = 0.75. L∞ and L2.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import { normalise, projectL2, projectLinf, randomStart, type Norm } from './ball';
import { lossAndGradient, type LossKind, type SingleTarget } from './objective';
import type { AttackOutcome } from './attack';
import { gatherRows, mergeRows, replaceRows, spreadRows } from './rows';
import { Rng } from '../../random';

export interface ApgdOptions {
  /** Radius in [0,1] pixel units (L∞) or in the L2 norm of [0,1] images. */
  eps: number;
  norm: Norm;
  /** Iterations N (100 in AutoAttack). */
  steps: number;
  /** Restarts from fresh random points, each on the samples not fooled so far (1 in AutoAttack standard). */
  restarts: number;
  loss: LossKind;
  target: SingleTarget;
  /** Target class per sample, for the targeted losses. */
  yTarget?: tf.Tensor1D;
  rho?: number;
  momentum?: number;
  seed?: number;
  /** Receives, after every iteration, the step size of each sample (for tests and traces). */
  onIteration?: (iteration: number, stepSizes: Float32Array) => void;
}

/** Checkpoint fractions p_j ≤ 1 of the paper. */
export function apgdCheckpointFractions(): number[] {
  const p = [0, 0.22];
  for (;;) {
    const j = p.length - 1;
    const next = p[j] + Math.max(p[j] - p[j - 1] - 0.03, 0.06);
    if (next > 1 + 1e-9) return p;
    p.push(next);
  }
}

/** Iterations w_j = ⌈p_j·N⌉ (j ≥ 1) after which the step-size conditions are checked. */
export function apgdCheckpoints(steps: number): number[] {
  const ws = apgdCheckpointFractions().slice(1).map((p) => Math.ceil(p * steps - 1e-9));
  // For small N several fractions round to the same iteration: one check there.
  return [...new Set(ws)].filter((w) => w >= 1 && w <= steps);
}

/**
 * The step-size controller of one APGD run, per sample, kept apart from the tensors so that the
 * schedule can be checked on its own. Feed it the loss of every iterate in order.
 */
export class ApgdStepControl {
  readonly stepSize: Float32Array;
  readonly bestLoss: Float32Array;
  private readonly lastLoss: Float32Array;
  private readonly increases: Int32Array;
  private readonly bestAtLastCheck: Float32Array;
  private readonly halvedAtLastCheck: Uint8Array;
  private readonly checkpoints: Set<number>;
  private lastCheck = 0;

  constructor(n: number, initialStep: number, initialLoss: ArrayLike<number>, steps: number, private readonly rho = 0.75) {
    this.stepSize = new Float32Array(n).fill(initialStep);
    this.bestLoss = Float32Array.from(initialLoss);
    this.lastLoss = Float32Array.from(initialLoss);
    this.bestAtLastCheck = Float32Array.from(initialLoss);
    this.increases = new Int32Array(n);
    // η^(w_0) = η^(w_1) holds trivially at the first checkpoint (nothing was halved before).
    this.halvedAtLastCheck = new Uint8Array(n);
    this.checkpoints = new Set(apgdCheckpoints(steps));
  }

  /**
   * Records the loss of iterate x^(k), k = 1…N. Returns which samples improved their best loss and,
   * at a checkpoint, which samples have their step halved and restart from their best point.
   */
  observe(k: number, loss: ArrayLike<number>): { improved: Uint8Array; halve: Uint8Array | null } {
    const n = this.stepSize.length;
    const improved = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (loss[i] > this.lastLoss[i]) this.increases[i] += 1;
      this.lastLoss[i] = loss[i];
      if (loss[i] > this.bestLoss[i]) {
        this.bestLoss[i] = loss[i];
        improved[i] = 1;
      }
    }
    if (!this.checkpoints.has(k)) return { improved, halve: null };
    const window = k - this.lastCheck;
    const halve = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const oscillating = this.increases[i] < this.rho * window;
      const stalled = !this.halvedAtLastCheck[i] && this.bestLoss[i] <= this.bestAtLastCheck[i];
      halve[i] = oscillating || stalled ? 1 : 0;
      if (halve[i]) {
        this.stepSize[i] /= 2;
        // The next comparison is against the point the run restarts from.
        this.lastLoss[i] = this.bestLoss[i];
      }
      this.halvedAtLastCheck[i] = halve[i];
      this.bestAtLastCheck[i] = this.bestLoss[i];
      this.increases[i] = 0;
    }
    this.lastCheck = k;
    return { improved, halve };
  }
}

/** One APGD run from a random start; returns the fooling/best points and the fooled flags. */
async function apgdRun(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: ApgdOptions, seed: number): Promise<AttackOutcome> {
  const n = x.shape[0];
  const alpha = opts.momentum ?? 0.75;
  const project = (p: tf.Tensor4D) => (opts.norm === 'linf' ? projectLinf(p, x, opts.eps) : projectL2(p, x, opts.eps));
  const step = (p: tf.Tensor4D, g: tf.Tensor4D, eta: tf.Tensor) =>
    tf.add(p, tf.mul(eta, opts.norm === 'linf' ? tf.sign(g) : normalise(g, 'l2'))) as tf.Tensor4D;

  let xCur = randomStart(x, opts.eps, seed, { surface: opts.norm });
  let xPrev = xCur.clone();
  let first = lossAndGradient(net, xCur, y, opts.target, opts.loss, opts.yTarget);
  let grad = first.grad;
  const [loss0, fooled0] = await Promise.all([first.loss.data(), first.fooled.data()]);
  tf.dispose([first.loss, first.fooled]);
  const control = new ApgdStepControl(n, 2 * opts.eps, loss0, opts.steps, opts.rho ?? 0.75);
  const fooled = Uint8Array.from(fooled0, (v) => (v > 0.5 ? 1 : 0));
  let xBest = xCur.clone();
  let gradBest = grad.clone();
  let xBestAdv = xCur.clone();

  for (let k = 0; k < opts.steps; k++) {
    const next = tf.tidy(() => {
      const eta = tf.tensor(control.stepSize, [n, 1, 1, 1]);
      const z = project(step(xCur, grad, eta));
      if (k === 0) return z;
      // x^(k+1) = P(x^(k) + α(z^(k+1) − x^(k)) + (1 − α)(x^(k) − x^(k−1)))
      return project(tf.add(tf.add(xCur, tf.mul(alpha, tf.sub(z, xCur))), tf.mul(1 - alpha, tf.sub(xCur, xPrev))) as tf.Tensor4D);
    });
    xPrev.dispose();
    xPrev = xCur;
    xCur = next;
    grad.dispose();
    const out = lossAndGradient(net, xCur, y, opts.target, opts.loss, opts.yTarget);
    grad = out.grad;
    const [loss, nowFooled] = await Promise.all([out.loss.data(), out.fooled.data()]);
    tf.dispose([out.loss, out.fooled]);

    const newlyAdv = new Uint8Array(n);
    nowFooled.forEach((v, i) => {
      if (v > 0.5) {
        newlyAdv[i] = 1;
        fooled[i] = 1;
      }
    });
    xBestAdv = replaceRows(xBestAdv, xCur, newlyAdv);
    const { improved, halve } = control.observe(k + 1, loss);
    xBest = replaceRows(xBest, xCur, improved);
    if (improved.some((f) => f)) {
      const g = mergeRows(improved, grad, gradBest);
      gradBest.dispose();
      gradBest = g;
    }
    if (halve && halve.some((f) => f)) {
      xCur = replaceRows(xCur, xBest, halve);
      const g = mergeRows(halve, gradBest, grad);
      grad.dispose();
      grad = g;
    }
    opts.onIteration?.(k + 1, control.stepSize);
  }
  const xAdv = mergeRows(fooled, xBestAdv, xBest);
  tf.dispose([xCur, xPrev, grad, xBest, gradBest, xBestAdv]);
  return { xAdv, fooled };
}

/**
 * APGD with restarts: each restart attacks only the samples not fooled so far and keeps its fooling
 * points. Losses: 'ce' (APGD-CE), 'dlr', 'dlr-targeted' with `yTarget` (APGD-T's inner run), 'cw'.
 */
export async function apgd(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: ApgdOptions): Promise<AttackOutcome> {
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  let result = await apgdRun(net, x, y, opts, rng.seed());
  for (let r = 1; r < opts.restarts; r++) {
    const left = [...result.fooled.keys()].filter((i) => !result.fooled[i]);
    if (left.length === 0) break;
    const [sub, subY] = gatherRows(left, x, y);
    const [subT] = opts.yTarget ? gatherRows(left, opts.yTarget) : [undefined];
    const again = await apgdRun(net, sub, subY, { ...opts, yTarget: subT }, rng.seed());
    const flags = new Uint8Array(x.shape[0]);
    left.forEach((i, j) => {
      if (again.fooled[j]) flags[i] = 1;
    });
    const spread = spreadRows(again.xAdv, left, x.shape[0]);
    const merged = replaceRows(result.xAdv, spread, flags);
    tf.dispose([sub, subY, subT ?? [], again.xAdv, spread]);
    result = { xAdv: merged, fooled: Uint8Array.from(result.fooled, (f, i) => f | flags[i]) };
  }
  return result;
}
