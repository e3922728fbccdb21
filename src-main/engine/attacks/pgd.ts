// The sign-gradient family under L∞, on any exit target: FGSM (one step), BIM (iterative FGSM from
// the clean point; Kurakin et al. 2017), PGD-k (from a random point of the ball, with restarts;
// Madry et al. 2018), MIM (BIM whose step follows a momentum of L1-normalised gradients; Dong et
// al. 2018) and CW∞ (PGD on the Carlini–Wagner margin loss). One synchronous core, so that the
// training methods can craft their examples inside their own tf code.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { objectivesOf, selectByAverageLoss } from './loss';
import { allHeadsWrong, headLogits, lossAndGradient, objectiveLossOf, type LossKind, type SingleTarget } from './objective';
import { projectLinf, randomStart } from './ball';
import { mergeRows } from './rows';
import { mixSeed } from '../../random';

export interface PgdOptions {
  /** Radius and step in [0,1] pixel units. */
  eps: number;
  alpha: number;
  steps: number;
  /** Runs per objective from fresh random starts; per sample the one with the highest loss is kept. */
  restarts: number;
  target: ExitTarget;
  /** Batch-norm mode while attacking: training-time attacks use batch statistics. */
  training?: boolean;
  seed?: number;
  /** Start from a uniform point of the ε-ball (default); off: from the clean point (BIM, FGSM). */
  randomStart?: boolean;
  /** MIM's decay μ: steps follow g ← μ·g + ∇/‖∇‖₁ instead of ∇. Unset: no momentum. */
  momentum?: number;
  /** Loss ascended on each head: cross-entropy (default) or the CW margin. */
  loss?: LossKind;
  /**
   * Return, per sample, the first iterate that fools every head of the objective, where one does
   * (evaluation: any point of the ball that fools counts). Off in training, which wants the last
   * iterate.
   */
  keepFooling?: boolean;
}

interface Run {
  point: tf.Tensor4D;
  /** Per-sample loss at `point` (fooling points rank above every other one when keepFooling). */
  score: tf.Tensor1D;
}

function score(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objective: SingleTarget, opts: PgdOptions): tf.Tensor1D {
  return tf.tidy(() => {
    const heads = headLogits(net, x, objective, opts.training ?? false);
    const loss = objectiveLossOf(heads, opts.loss ?? 'ce', y);
    return (opts.keepFooling ? tf.where(tf.greater(allHeadsWrong(heads, y), 0.5), tf.fill(loss.shape, Infinity), loss) : loss) as tf.Tensor1D;
  });
}

/** One run from one start on one objective. */
function ascend(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objective: SingleTarget, opts: PgdOptions, seed: number): tf.Tensor4D {
  const training = opts.training ?? false;
  let xAdv = opts.randomStart === false ? x.clone() : randomStart(x, opts.eps, seed);
  let velocity: tf.Tensor4D | null = null;
  let found: tf.Tensor4D | null = null;
  let fooled: tf.Tensor1D | null = null;
  const keep = (wrong: tf.Tensor1D) => {
    if (!found || !fooled) {
      found = xAdv.clone();
      fooled = wrong.clone();
      return;
    }
    const [f, m] = tf.tidy(() => [mergeRows(tf.mul(wrong, tf.sub(1, fooled!)) as tf.Tensor1D, xAdv, found!), tf.maximum(fooled!, wrong) as tf.Tensor1D]);
    tf.dispose([found, fooled]);
    found = f;
    fooled = m;
  };
  for (let k = 0; k < opts.steps; k++) {
    const out = lossAndGradient(net, xAdv, y, objective, opts.loss ?? 'ce', undefined, training);
    if (opts.keepFooling) keep(out.fooled);
    let direction = out.grad;
    if (opts.momentum !== undefined) {
      const mu = opts.momentum;
      const v: tf.Tensor4D = tf.tidy(() => {
        const unit = tf.div(out.grad, tf.add(tf.sum(tf.abs(out.grad), [1, 2, 3], true), 1e-12));
        return (velocity ? tf.add(tf.mul(mu, velocity), unit) : unit) as tf.Tensor4D;
      });
      velocity?.dispose();
      velocity = v;
      direction = v;
    }
    const next = tf.tidy(() => projectLinf(tf.add(xAdv, tf.mul(opts.alpha, tf.sign(direction))) as tf.Tensor4D, x, opts.eps));
    tf.dispose([out.grad, out.loss, out.fooled, xAdv]);
    xAdv = next;
  }
  velocity?.dispose();
  if (!opts.keepFooling) return xAdv;
  const last = tf.tidy(() => allHeadsWrong(headLogits(net, xAdv, objective, training), y));
  keep(last);
  last.dispose();
  const out = mergeRows(fooled!, found!, xAdv);
  tf.dispose([found!, fooled!, xAdv]);
  return out;
}

/** Restarts on one objective: per sample, the run with the highest score. */
function bestOfRestarts(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objective: SingleTarget, opts: PgdOptions, seed: number): tf.Tensor4D {
  let best: Run | null = null;
  for (let r = 0; r < opts.restarts; r++) {
    const point = ascend(net, x, y, objective, opts, mixSeed(seed, r));
    if (opts.restarts === 1) return point;
    const run = { point, score: score(net, point, y, objective, opts) };
    if (!best) {
      best = run;
      continue;
    }
    const prev: Run = best;
    best = tf.tidy(() => ({
      point: mergeRows(tf.greater(run.score, prev.score) as tf.Tensor1D, run.point, prev.point), score: tf.maximum(run.score, prev.score) as tf.Tensor1D,
    }));
    tf.dispose([prev.point, prev.score, run.point, run.score]);
  }
  best!.score.dispose();
  return best!.point;
}

export function pgd(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: PgdOptions): tf.Tensor4D {
  const seed = opts.seed ?? 0;
  // Several objectives (max-average): objective i runs exactly as PGD on it alone with the seed
  // mixSeed(seed, i) would.
  const objectives = objectivesOf(opts.target, net.exitCount);
  const candidates = objectives.map((objective, i) => bestOfRestarts(net, x, y, objective, opts, objectives.length === 1 ? seed : mixSeed(seed, i)));
  if (candidates.length === 1) return candidates[0];
  const chosen = selectByAverageLoss(net, candidates, y, opts.training ?? false);
  tf.dispose(candidates);
  return chosen;
}
