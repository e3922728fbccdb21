// AutoAttack, standard version (Croce & Hein, ICML 2020): APGD-CE, then APGD-T (targeted DLR, the 9
// most likely wrong classes), then FAB-T (same 9 targets), then Square (5000 queries), each run
// only on the points every earlier attack left robust. 100 iterations, one restart each.
// On a multi-exit network the ensemble runs once per objective of the exit target (one exit, the
// average of all, or each exit and the average for max-average). What "still robust" means is up
// to a tracker: by default the objective itself; the evaluation runner tracks every exit and the
// early-exit model at once, so a point stays in the pool while any of them still resists.
import * as tf from '@tensorflow/tfjs';
import { AA_COMPONENTS, AA_STANDARD_SETTINGS, type AaComponent } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { objectivesOf } from './loss';
import type { SingleTarget } from './objective';
import { apgd } from './apgd';
import { fabTargeted, rankedClasses } from './fab';
import { objectiveMarginFn, square } from './square';
import { TargetTracker, type EnsembleTracker } from './attack';
import { gatherRows } from './rows';
import { mixSeed } from '../../random';

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

export const AA_STANDARD: Omit<AutoAttackOptions, 'eps' | 'seed'> = { ...AA_STANDARD_SETTINGS, components: AA_COMPONENTS, rescaleSquareSchedule: false };

/** True when the settings are those of the standard version (so reports can say so). */
export function isStandardAutoAttack(o: Omit<AutoAttackOptions, 'eps' | 'seed'>): boolean {
  const s = AA_STANDARD_SETTINGS;
  return o.steps === s.steps && o.targetClasses === s.targetClasses && o.squareQueries === s.squareQueries && o.restarts === s.restarts
    && !o.rescaleSquareSchedule && o.components.join() === AA_COMPONENTS.join();
}

/** Runs the ensemble; returns, per component, how many points it newly fooled (as the tracker counts). */
export async function runAutoAttack(
  net: MultiExitNet,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  objectives: SingleTarget[],
  opts: AutoAttackOptions,
  tracker: EnsembleTracker,
): Promise<Record<AaComponent, number>> {
  const gains: Record<AaComponent, number> = { 'apgd-ce': 0, 'apgd-t': 0, 'fab-t': 0, square: 0 };
  const targets = Math.min(opts.targetClasses, net.numClasses - 1);
  // Targeted DLR needs 4 classes; below that APGD-T ascends the targeted cross-entropy instead.
  const targetedLoss = net.numClasses >= 4 ? 'dlr-targeted' : 'ce-targeted';
  const seedOf = (c: number, o: number, r: number) => mixSeed(opts.seed, c, o, r);

  const subset = (rows: number[]) => {
    const [sx, sy] = gatherRows(rows, x, y);
    return { x: sx, y: sy };
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
          result = await apgd(net, sub.x, sub.y, {
            eps: opts.eps, norm: 'linf', steps: opts.steps, restarts: opts.restarts, loss: 'ce', target: objective, seed: seedOf(c, o, rank),
          });
        } else if (component === 'square') {
          result = await square(sub.x, sub.y, objectiveMarginFn(net, objective), {
            eps: opts.eps, queries: opts.squareQueries, rescaleSchedule: opts.rescaleSquareSchedule, seed: seedOf(c, o, rank),
          });
        } else {
          const yTarget = tf.tensor1d(await rankedClasses(net, sub.x, objective, rank), 'int32');
          result = component === 'apgd-t'
            ? await apgd(net, sub.x, sub.y, {
              eps: opts.eps, norm: 'linf', steps: opts.steps, restarts: opts.restarts, loss: targetedLoss, yTarget, target: objective, seed: seedOf(c, o, rank),
            })
            : await fabTargeted(net, sub.x, sub.y, yTarget, {
              eps: opts.eps, steps: opts.steps, restarts: opts.restarts, target: objective, seed: seedOf(c, o, rank),
            });
          yTarget.dispose();
        }
        // FAB returns the clean point where it found nothing within ε: nothing to record there.
        const keep = component === 'fab-t' ? rows.map((_, j) => j).filter((j) => result.fooled[j]) : rows.map((_, j) => j);
        if (keep.length) {
          const kept = keep.length === rows.length ? result.xAdv : gatherRows(keep, result.xAdv)[0];
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

/** AutoAttack against one target: robust means every attack failed to fool all the heads of each objective. */
export async function autoAttack(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, target: ExitTarget, opts: AutoAttackOptions): Promise<AutoAttackResult> {
  const tracker = await TargetTracker.create(net, x, y, target);
  const gains = await runAutoAttack(net, x, y, objectivesOf(target, net.exitCount), opts, tracker);
  return { xAdv: tracker.outcome().xAdv, robust: tracker.robust, gains };
}
