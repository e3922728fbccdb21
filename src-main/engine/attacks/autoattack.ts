// AutoAttack, standard version (Croce & Hein, ICML 2020): APGD-CE, then APGD-T (targeted DLR, the 9
// most likely wrong classes), then FAB-T (same 9 targets), then Square (5000 queries), each run
// only on the points every earlier attack left robust. 100 iterations, one restart each.
// On a multi-exit network the ensemble runs once per objective of the exit target (one exit, the
// average of all, or each exit and the average for max-average). What "still robust" means is up
// to a tracker: by default the objective itself; the evaluation runner tracks every exit and the
// early-exit model at once, so a point stays in the pool while any of them still resists.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { objectivesOf } from './loss';
import { allHeadsWrong, headLogits, type SingleTarget } from './objective';
import { apgd } from './apgd';
import { fabTargeted, rankedClasses } from './fab';
import { objectiveMarginFn, square } from './square';

export const AA_COMPONENTS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'] as const;
export type AaComponent = (typeof AA_COMPONENTS)[number];

export interface AutoAttackOptions {
  eps: number;
  /** APGD and FAB iterations (100). */
  steps: number;
  /** Target classes of APGD-T and FAB-T (9; at most classes − 1). */
  targetClasses: number;
  /** Square's query budget (5000). */
  squareQueries: number;
  /** Restarts of APGD-CE, of APGD-T and FAB-T per target class (1 each in the standard version). */
  restarts: number;
  components: readonly AaComponent[];
  /** Stretch Square's p schedule to a reduced query budget (off in the standard version). */
  rescaleSquareSchedule: boolean;
  seed: number;
}

export const AA_STANDARD: Omit<AutoAttackOptions, 'eps' | 'seed'> = {
  steps: 100,
  targetClasses: 9,
  squareQueries: 5000,
  restarts: 1,
  components: AA_COMPONENTS,
  rescaleSquareSchedule: false,
};

/** True when the settings are those of the standard version (so reports can say so). */
export function isStandardAutoAttack(o: Omit<AutoAttackOptions, 'eps' | 'seed'>): boolean {
  return o.steps === 100 && o.targetClasses === 9 && o.squareQueries === 5000 && o.restarts === 1 && !o.rescaleSquareSchedule && o.components.join() === AA_COMPONENTS.join();
}

/** Decides which points still need attacking and takes the candidates each attack produces. */
export interface EnsembleTracker {
  /** Batch rows still worth attacking for this objective. */
  pending(target: SingleTarget): number[];
  /** Candidate adversarial points for the listed rows; returns how many points it newly fooled. */
  record(rows: number[], xAdv: tf.Tensor4D, component: AaComponent): Promise<number>;
}

/** Runs the ensemble; returns, per component, how many points it newly fooled (as the tracker counts). */
export async function runAutoAttack(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objectives: SingleTarget[], opts: AutoAttackOptions, tracker: EnsembleTracker): Promise<Record<AaComponent, number>> {
  const gains: Record<AaComponent, number> = { 'apgd-ce': 0, 'apgd-t': 0, 'fab-t': 0, square: 0 };
  const targets = Math.min(opts.targetClasses, net.numClasses - 1);
  // Targeted DLR needs 4 classes; below that APGD-T ascends the targeted cross-entropy instead.
  const targetedLoss = net.numClasses >= 4 ? 'dlr-targeted' : 'ce-targeted';
  const seedOf = (c: number, o: number, r: number) => opts.seed + 7919 * c + 104_729 * o + 13 * r;

  const subset = (rows: number[]) => {
    const idx = tf.tensor1d(rows, 'int32');
    const out = { x: tf.gather(x, idx) as tf.Tensor4D, y: tf.gather(y, idx) as tf.Tensor1D };
    idx.dispose();
    return out;
  };

  for (const [c, component] of AA_COMPONENTS.entries()) {
    if (!opts.components.includes(component)) continue;
    for (const [o, objective] of objectives.entries()) {
      const ranks = component === 'apgd-t' || component === 'fab-t' ? Array.from({ length: targets }, (_, k) => k + 2) : [0];
      for (const rank of ranks) {
        const rows = tracker.pending(objective);
        if (rows.length === 0) break;
        const sub = subset(rows);
        let result;
        if (component === 'apgd-ce') {
          result = await apgd(net, sub.x, sub.y, { eps: opts.eps, norm: 'linf', steps: opts.steps, restarts: opts.restarts, loss: 'ce', target: objective, seed: seedOf(c, o, rank) });
        } else if (component === 'square') {
          result = await square(sub.x, sub.y, objectiveMarginFn(net, objective), { eps: opts.eps, queries: opts.squareQueries, rescaleSchedule: opts.rescaleSquareSchedule, seed: seedOf(c, o, rank) });
        } else {
          const yTarget = tf.tensor1d(await rankedClasses(net, sub.x, objective, rank), 'int32');
          result = component === 'apgd-t'
            ? await apgd(net, sub.x, sub.y, { eps: opts.eps, norm: 'linf', steps: opts.steps, restarts: opts.restarts, loss: targetedLoss, yTarget, target: objective, seed: seedOf(c, o, rank) })
            : await fabTargeted(net, sub.x, sub.y, yTarget, { eps: opts.eps, steps: opts.steps, restarts: opts.restarts, target: objective, seed: seedOf(c, o, rank) });
          yTarget.dispose();
        }
        // FAB returns the clean point where it found nothing within ε: nothing to record there.
        const keep = component === 'fab-t' ? rows.map((_, j) => j).filter((j) => result.fooled[j]) : rows.map((_, j) => j);
        if (keep.length) {
          const kept = keep.length === rows.length ? result.xAdv : (tf.gather(result.xAdv, tf.tensor1d(keep, 'int32')) as tf.Tensor4D);
          gains[component] += await tracker.record(keep.map((j) => rows[j]), kept, component);
          if (kept !== result.xAdv) kept.dispose();
        }
        tf.dispose([sub.x, sub.y, result.xAdv]);
      }
    }
  }
  return gains;
}

export interface AutoAttackResult {
  /** Per sample: the first point found that fools the objective, else the clean point. */
  xAdv: tf.Tensor4D;
  /** 1 where no component fooled the objective (and the point was correctly classified). */
  robust: Uint8Array;
  gains: Record<AaComponent, number>;
}

/** AutoAttack against one objective: robust means every attack failed to fool all of its heads. */
export async function autoAttack(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, target: ExitTarget, opts: AutoAttackOptions): Promise<AutoAttackResult> {
  const n = x.shape[0];
  const objectives = objectivesOf(target, net.exitCount) as SingleTarget[];
  const cleanWrong = tf.tidy(() => objectives.map((o) => allHeadsWrong(headLogits(net, x, o), y)));
  const wrong = await Promise.all(cleanWrong.map((t) => t.data()));
  tf.dispose(cleanWrong);
  // For max-average a point is robust while every objective still resists.
  const robust = Uint8Array.from({ length: n }, (_, i) => (wrong.every((w) => w[i] < 0.5) ? 1 : 0));
  let found = x.clone();
  const tracker: EnsembleTracker = {
    pending: () => [...robust.keys()].filter((i) => robust[i]),
    async record(rows, xAdv) {
      const flagsT = tf.tidy(() => {
        const ySub = tf.gather(y, tf.tensor1d(rows, 'int32')) as tf.Tensor1D;
        return tf.max(tf.stack(objectives.map((o) => allHeadsWrong(headLogits(net, xAdv, o), ySub))), 0);
      });
      const flags = await flagsT.data();
      flagsT.dispose();
      const fresh = rows.map((r, j) => (flags[j] > 0.5 && robust[r] ? j : -1)).filter((j) => j >= 0);
      if (fresh.length === 0) return 0;
      const source = new Int32Array(n);
      const mask = new Float32Array(n);
      for (const j of fresh) {
        robust[rows[j]] = 0;
        source[rows[j]] = j;
        mask[rows[j]] = 1;
      }
      const next = tf.tidy(() => {
        const m = tf.tensor(mask, [n, 1, 1, 1]);
        return tf.add(tf.mul(tf.gather(xAdv, tf.tensor1d(source, 'int32')), m), tf.mul(found, tf.sub(1, m))) as tf.Tensor4D;
      });
      found.dispose();
      found = next;
      return fresh.length;
    },
  };
  const gains = await runAutoAttack(net, x, y, objectives, opts, tracker);
  return { xAdv: found, robust, gains };
}
