// The evaluation runner: attacks × exits on a set of images, for each exit and for the early-exit
// model at each budget. Thresholds are calibrated on held-out clean images first; then each attack
// (run by name through the registry) attacks the exit target (one exit, the average, or each exit
// and the average for max-average) batch by batch, and a RobustTracker counts, per classifier, the
// images no candidate fooled. Attacks are independent: each starts from the clean predictions. A
// classifier the target does not aim at is marked so in the result: its number is what points
// crafted against the others did to it, not an attack on it.
//
// The batches are tasks (batch-attack.ts) with their seeds drawn here, in order, before any runs:
// an executor may run them on this thread or spread them over workers, and the merged result
// (attack-result.ts) is the same.
import * as tf from '@tensorflow/tfjs';
import type { AttackResult, EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { mixSeed, Rng } from '../../random';
import { batchCount } from '../parallel/shards';
import { calibrateThreshold, type Calibration } from './early-exit';
import type { AttackSettings } from './attack-specs';
import { mergeAttack } from './attack-result';
import { batchOf, localExecutor, type BatchExecutor, type BatchTask, type ImageSet } from './batch-attack';
import { predictAll } from './tracker';

export interface EvaluateOptions {
  /** L∞ radius in [0,1] pixel units. */
  eps: number;
  attacks: EvalAttack[];
  target: ExitTarget;
  settings: AttackSettings;
  /** Budgets as fractions of the last exit's cost. */
  budgets: number[];
  /** Cost (MACs) of leaving at each exit. */
  costs: number[];
  batchSize: number;
  seed: number;
  /** When an attack starts (done 0) and after each batch; `fraction`: of all the batches of this call. */
  onProgress?(p: { attack: string; done: number; batches: number; fraction: number }): void;
}

export interface EvaluationOutcome {
  budgets: Array<Calibration & { fraction: number }>;
  attacks: AttackResult[];
}

/** Calibrates one threshold per budget on clean images (none asked: no early-exit results). */
async function calibrate(
  net: MultiExitNet, set: ImageSet, budgets: number[], costs: number[], batchSize: number,
): Promise<Array<Calibration & { fraction: number }>> {
  if (budgets.length === 0) return [];
  if (set.count === 0) throw new Error('early-exit thresholds need held-out calibration images');
  const exits = net.exitCount;
  const conf = new Float32Array(set.count * exits);
  const pred = new Int32Array(set.count * exits);
  for (let s = 0; s < set.count; s += batchSize) {
    const e = Math.min(set.count, s + batchSize);
    const b = batchOf(set, s, e);
    const p = await predictAll(net, b.x);
    conf.set(p.conf, s * exits);
    pred.set(p.pred, s * exits);
    tf.dispose([b.x, b.y]);
  }
  const full = costs[costs.length - 1];
  return budgets.map((fraction) => ({ fraction, ...calibrateThreshold(conf, pred, set.y, set.count, exits, costs, fraction * full) }));
}

/** Every batch of every attack, attack by attack; attack a's batch seeds come from Rng(mixSeed(seed, a)). */
function tasksOf(images: ImageSet, opts: EvaluateOptions, thresholds: number[]): BatchTask[] {
  const batches = batchCount(images.count, opts.batchSize);
  return opts.attacks.flatMap((attack, a) => {
    const rng = new Rng(mixSeed(opts.seed, a));
    return Array.from({ length: batches }, (_, b) => {
      const start = b * opts.batchSize;
      return { attack, eps: opts.eps, thresholds, start, end: Math.min(images.count, start + opts.batchSize), seed: rng.seed() };
    });
  });
}

/**
 * Accuracy per exit and early-exit results for a set of images under a list of attacks. The
 * batches run on `executor` (default: one after another on `net`); calibration runs on `net`.
 */
export async function evaluateRobustness(
  net: MultiExitNet, images: ImageSet, calibration: ImageSet, opts: EvaluateOptions, executor: BatchExecutor = localExecutor(net, images, opts),
): Promise<EvaluationOutcome> {
  const budgets = await calibrate(net, calibration, opts.budgets, opts.costs, opts.batchSize);
  const tasks = tasksOf(images, opts, budgets.map((b) => b.threshold));
  const batches = batchCount(images.count, opts.batchSize);
  const done = new Map<string, number>();
  let all = 0;
  const report = (attack: string) => opts.onProgress?.({ attack, done: done.get(attack)!, batches, fraction: all / tasks.length });
  const outcomes = await executor(tasks, {
    started: (t) => {
      if (done.has(t.attack)) return;
      done.set(t.attack, 0);
      report(t.attack);
    },
    done: (t) => {
      done.set(t.attack, done.get(t.attack)! + 1);
      all += 1;
      report(t.attack);
    },
  });
  const ctx = { exits: net.exitCount, budgets, costs: opts.costs, eps: opts.eps, target: opts.target, settings: opts.settings };
  const attacks = opts.attacks.map((name, a) => mergeAttack(name, outcomes.slice(a * batches, (a + 1) * batches), ctx));
  return { budgets, attacks };
}

export function parseTarget(text: string, exitCount: number): ExitTarget {
  if (text === 'average' || text === 'max-average') return { kind: text };
  const m = /^exit:([1-9][0-9]*)$/.exec(text);
  if (!m) throw new Error(`target must be average, max-average or exit:N, got '${text}'`);
  const index = Number(m[1]) - 1;
  if (index >= exitCount) throw new Error(`target exit:${index + 1} does not exist (the model has ${exitCount} exit(s))`);
  return { kind: 'exit', index };
}
