// The evaluation runner: attacks × exits on a set of images, for each exit and for the early-exit
// model at each budget. Thresholds are calibrated on held-out clean images first; then, batch by
// batch, each attack (run by name through the registry) attacks the exit target (one exit, the
// average, or each exit and the average for max-average) and a RobustTracker counts, per
// classifier, the images no candidate fooled. Attacks are independent: each starts from the clean
// predictions. A classifier the target does not aim at is marked so in the result: its number is
// what points crafted against the others did to it, not an attack on it.
import * as tf from '@tensorflow/tfjs';
import type { AttackResult, EarlyExitPoint, EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { mixSeed, Rng } from '../../random';
import { calibrateThreshold, exitShare, meanCost, type Calibration } from './early-exit';
import { attackNamed, type AttackSettings } from './attack-specs';
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

/** Per exit, the target whose attack a number measures (null: the target aims elsewhere). */
function aimedAt(target: ExitTarget, exits: number): Array<string | null> {
  const name = describe(target);
  return Array.from({ length: exits }, (_, e) => (target.kind !== 'exit' || target.index === e ? name : null));
}

/** Accuracy per exit and early-exit results for a set of images under a list of attacks. */
export async function evaluateRobustness(net: MultiExitNet, images: ImageSet, calibration: ImageSet, opts: EvaluateOptions): Promise<EvaluationOutcome> {
  const budgets = await calibrate(net, calibration, opts.budgets, opts.costs, opts.batchSize);
  const thresholds = budgets.map((b) => b.threshold);
  const exits = net.exitCount;
  const batches = Math.ceil(images.count / opts.batchSize);
  const attacks: AttackResult[] = [];
  for (const [a, name] of opts.attacks.entries()) {
    const attack = attackNamed(name, opts.settings);
    const rng = new Rng(mixSeed(opts.seed, a));
    const robust = new Array(exits + thresholds.length).fill(0);
    const robustImages: string[][] = Array.from({ length: exits + thresholds.length }, () => []);
    const macs = new Array(thresholds.length).fill(0);
    const share = thresholds.map(() => new Array(exits).fill(0));
    const components = Array.isArray(attack.settings.components) ? (attack.settings.components as string[]) : [];
    // Every component run is listed, also one that fooled nothing.
    const gains = new Map<string, number[]>(components.map((c) => [c, new Array(exits + thresholds.length).fill(0)]));
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      opts.onProgress?.({ attack: name, batch: b, batches });
      const start = b * opts.batchSize;
      const end = Math.min(images.count, start + opts.batchSize);
      const batch = batchOf(images, start, end);
      const tracker = new RobustTracker(net, batch.labels, thresholds, await predictAll(net, batch.x));
      const outcome = await attack.run(net, batch.x, batch.y, { eps: opts.eps, target: opts.target, seed: rng.seed(), tracker });
      outcome.xAdv.dispose();
      tracker.robust.forEach((r, c) => {
        robust[c] += r.reduce((s, v) => s + v, 0);
        robustImages[c].push(Array.from(r).join(''));
      });
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
      feasible: bud.feasible,
      aimed: opts.target.kind !== 'exit',
      accuracy: robust[exits + k] / n,
      macs: macs[k] / n,
      exitShare: share[k].map((v) => v / n),
    }));
    const settings: Record<string, unknown> = { target: describe(opts.target), ...attack.settings };
    if (typeof attack.settings.alphaOfEps === 'number') settings.alpha255 = attack.settings.alphaOfEps * opts.eps * 255;
    const joined = robustImages.map((parts) => parts.join(''));
    attacks.push({
      attack: name,
      label: attack.label,
      eps: name === 'clean' ? 0 : opts.eps * 255,
      steps: attack.steps,
      restarts: attack.restarts,
      samples: n,
      settings,
      perExit: robust.slice(0, exits).map((v) => v / n),
      aimedAt: name === 'clean' ? new Array(exits).fill('none') : aimedAt(opts.target, exits),
      earlyExit: name === 'clean' ? earlyExit.map((p) => ({ ...p, aimed: true })) : earlyExit,
      gains: components.length ? Object.fromEntries(gains) : null,
      robustImages: { exits: joined.slice(0, exits), earlyExit: joined.slice(exits) },
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
