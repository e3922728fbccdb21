// The evaluation runner: attacks × exits on a set of images, for each exit and for the early-exit
// model at each budget. Thresholds are calibrated on held-out clean images first; then, batch by
// batch, each attack runs once per objective of the exit target (one exit, the average, or each exit
// and the average for max-average) and a RobustTracker counts, per classifier, the images no
// candidate fooled. Attacks are independent: each starts from the clean predictions.
import * as tf from '@tensorflow/tfjs';
import type { AttackResult, EarlyExitPoint, EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { fgsm } from '../attacks/fgsm';
import { pgd } from '../attacks/pgd';
import { cwInf } from '../attacks/cw';
import { objectivesOf } from '../attacks/loss';
import { runAutoAttack } from '../attacks/autoattack';
import type { SingleTarget } from '../attacks/objective';
import { Rng } from '../attacks/rng';
import { calibrateThreshold, exitShare, meanCost, type Calibration } from './early-exit';
import { planAttack, stepsOf, type AttackPlan, type AttackSettings } from './attack-specs';
import { predictAll, RobustTracker } from './tracker';

export interface ImageSet {
  /** Pixels in [0,1], row-major NHWC. */
  x: Float32Array;
  y: Int32Array;
  count: number;
  shape: [number, number, number];
}

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
  onProgress?(p: { attack: string; batch: number; batches: number }): void;
}

export interface EvaluationOutcome {
  budgets: Array<Calibration & { fraction: number }>;
  attacks: AttackResult[];
}

export function batchOf(set: ImageSet, start: number, end: number): { x: tf.Tensor4D; y: tf.Tensor1D; labels: Int32Array } {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    x: tf.tensor4d(set.x.subarray(start * size, end * size), [end - start, ...set.shape]),
    y: tf.tensor1d(set.y.subarray(start, end), 'int32'),
    labels: set.y.slice(start, end),
  };
}

/** Calibrates one threshold per budget on clean images (none asked: no early-exit results). */
export async function calibrate(net: MultiExitNet, set: ImageSet, budgets: number[], costs: number[], batchSize: number): Promise<Array<Calibration & { fraction: number }>> {
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

function subset(x: tf.Tensor4D, y: tf.Tensor1D, rows: number[]) {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return { x: tf.gather(x, idx) as tf.Tensor4D, y: tf.gather(y, idx) as tf.Tensor1D };
  });
}

/** Runs one attack plan on one batch, feeding every candidate to the tracker. */
export async function attackBatch(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, plan: AttackPlan, objectives: SingleTarget[], eps: number, tracker: RobustTracker, rng: Rng): Promise<void> {
  if (plan.attack === 'clean') return;
  if (plan.attack === 'aa' || !('alphaOfEps' in plan)) {
    await runAutoAttack(net, x, y, objectives, { eps, ...plan.aa, components: plan.components, seed: rng.seed() }, tracker);
    return;
  }
  const restarts = plan.attack === 'fgsm' ? 1 : plan.restarts;
  for (let r = 0; r < restarts; r++) {
    for (const objective of objectives) {
      const rows = tracker.pending(objective);
      if (rows.length === 0) continue;
      const sub = subset(x, y, rows);
      const alpha = plan.alphaOfEps * eps;
      let adv: tf.Tensor4D;
      if (plan.attack === 'fgsm') adv = fgsm(net, sub.x, sub.y, { eps, alpha, randomStart: false, target: objective });
      else if (plan.attack === 'cw') adv = (await cwInf(net, sub.x, sub.y, { eps, alpha, steps: plan.steps, restarts: 1, target: objective, seed: rng.seed() })).xAdv;
      else adv = pgd(net, sub.x, sub.y, { eps, alpha, steps: plan.steps, restarts: 1, target: objective, seed: rng.seed() });
      await tracker.record(rows, adv, plan.attack);
      tf.dispose([sub.x, sub.y, adv]);
    }
  }
}

/** Accuracy per exit and early-exit results for a set of images under a list of attacks. */
export async function evaluateRobustness(net: MultiExitNet, images: ImageSet, calibration: ImageSet, opts: EvaluateOptions): Promise<EvaluationOutcome> {
  const budgets = await calibrate(net, calibration, opts.budgets, opts.costs, opts.batchSize);
  const thresholds = budgets.map((b) => b.threshold);
  const objectives = objectivesOf(opts.target, net.exitCount) as SingleTarget[];
  const exits = net.exitCount;
  const batches = Math.ceil(images.count / opts.batchSize);
  const attacks: AttackResult[] = [];
  for (const [a, attack] of opts.attacks.entries()) {
    const plan = planAttack(attack, opts.settings);
    const rng = new Rng(opts.seed * 1009 + a);
    const robust = new Array(exits + thresholds.length).fill(0);
    const macs = new Array(thresholds.length).fill(0);
    const share = thresholds.map(() => new Array(exits).fill(0));
    const gains = new Map<string, number[]>();
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      opts.onProgress?.({ attack, batch: b, batches });
      const start = b * opts.batchSize;
      const end = Math.min(images.count, start + opts.batchSize);
      const batch = batchOf(images, start, end);
      const tracker = new RobustTracker(net, batch.labels, thresholds, await predictAll(net, batch.x));
      await attackBatch(net, batch.x, batch.y, plan, objectives, opts.eps, tracker, rng);
      tracker.robust.forEach((r, c) => (robust[c] += r.reduce((s, v) => s + v, 0)));
      tracker.taken.forEach((taken, k) => {
        macs[k] += meanCost(taken, opts.costs) * taken.length;
        exitShare(taken, exits).forEach((v, e) => (share[k][e] += v * taken.length));
      });
      for (const [component, g] of tracker.gains) {
        const sum = gains.get(component) ?? new Array(g.length).fill(0);
        gains.set(component, sum.map((v, i) => v + g[i]));
      }
      tf.dispose([batch.x, batch.y]);
    }
    const n = images.count;
    const earlyExit: EarlyExitPoint[] = budgets.map((bud, k) => ({
      fraction: bud.fraction,
      budgetMacs: bud.budget,
      threshold: bud.threshold,
      accuracy: robust[exits + k] / n,
      macs: macs[k] / n,
      exitShare: share[k].map((v) => v / n),
    }));
    const settings: Record<string, unknown> = { target: describe(opts.target) };
    if ('alphaOfEps' in plan) settings.alpha255 = plan.alphaOfEps * opts.eps * 255;
    if ('aa' in plan) Object.assign(settings, plan.aa, { components: plan.components });
    attacks.push({
      attack,
      label: plan.label,
      eps: attack === 'clean' ? 0 : opts.eps * 255,
      steps: stepsOf(plan),
      restarts: plan.attack === 'clean' ? 0 : 'restarts' in plan ? plan.restarts : 'aa' in plan ? plan.aa.restarts : 1,
      samples: n,
      settings,
      perExit: robust.slice(0, exits).map((v) => v / n),
      earlyExit,
      gains: gains.size && 'components' in plan ? Object.fromEntries(gains) : null,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return { budgets, attacks };
}

export function describe(target: ExitTarget): string {
  return target.kind === 'exit' ? `exit:${target.index + 1}` : target.kind;
}

export function parseTarget(text: string, exitCount: number): ExitTarget {
  if (text === 'average' || text === 'max-average') return { kind: text };
  const m = /^exit:([1-9][0-9]*)$/.exec(text);
  if (!m) throw new Error(`target must be average, max-average or exit:N, got '${text}'`);
  const index = Number(m[1]) - 1;
  if (index >= exitCount) throw new Error(`target exit:${index + 1} does not exist (the model has ${exitCount} exit(s))`);
  return { kind: 'exit', index };
}
