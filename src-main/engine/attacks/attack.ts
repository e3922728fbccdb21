// The one interface every evaluation attack has, the way AutoAttack runs its attacks by name: run
// on a batch against an exit target, get back per sample a point of the ε-ball and whether it fools
// the target. What "still worth attacking" means between calls is up to a tracker: by default the
// target itself; the evaluation runner tracks every exit and the early-exit model at once.
import * as tf from '@tensorflow/tfjs';
import type { EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { objectivesOf } from './loss';
import { allHeadsWrong, headLogits, headsOf, type SingleTarget } from './objective';
import { gatherRows, mergeRows, spreadRows } from './rows';
import { Rng } from '../../random';

export interface AttackOutcome {
  /** Per sample: the first point found that fools the target, else the clean point. */
  xAdv: tf.Tensor4D;
  /** 1 where every head of the objective misclassifies xAdv. */
  fooled: Uint8Array;
}

/** Decides which points still need attacking and takes the candidates each attack produces. */
export interface EnsembleTracker {
  /** Batch rows still worth attacking for this objective. */
  pending(target: SingleTarget): number[];
  /** Candidate adversarial points for the listed rows; returns how many points it newly fooled. */
  record(rows: number[], xAdv: tf.Tensor4D, component: string): Promise<number>;
}

export interface AttackRequest {
  /** L∞ radius in [0,1] pixel units. */
  eps: number;
  target: ExitTarget;
  seed: number;
  /** Receives every candidate and chooses the rows to attack (default: the target's own bookkeeping). */
  tracker?: EnsembleTracker;
}

export interface Attack {
  readonly name: EvalAttack;
  /** As reports and tables print it: "PGD-20", "AutoAttack (standard)". */
  readonly label: string;
  /** Gradient steps per run (APGD/FAB iterations for AutoAttack; 0 for clean and Square alone). */
  readonly steps: number;
  readonly restarts: number;
  /** Every other setting that defines the attack (step size as a fraction of ε, momentum, …). */
  readonly settings: Record<string, unknown>;
  run(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, request: AttackRequest): Promise<AttackOutcome>;
}

/** 1 where every head of the target misclassifies x. */
export async function fooledFlags(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, target: SingleTarget): Promise<Uint8Array> {
  const t = tf.tidy(() => allHeadsWrong(headLogits(net, x, target), y));
  const v = await t.data();
  t.dispose();
  return Uint8Array.from(v, (f) => (f > 0.5 ? 1 : 0));
}

/** 1 where some objective has every head wrong at x: one forward pass for all the objectives. */
async function anyObjectiveFooled(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, objectives: SingleTarget[]): Promise<Uint8Array> {
  const t = tf.tidy(() => {
    const logits = net.forward(x, false);
    const wrong = objectives.map((o) => allHeadsWrong(headsOf(o, net.exitCount).map((i) => logits[i]), y));
    return wrong.length === 1 ? wrong[0] : tf.max(tf.stack(wrong), 0);
  });
  const v = await t.data();
  t.dispose();
  return Uint8Array.from(v, (f) => (f > 0.5 ? 1 : 0));
}

/**
 * Robustness against one target: a point stays robust while no candidate fools every head of any
 * of its objectives (for max-average, each exit and the average). Keeps the first fooling point.
 */
export class TargetTracker implements EnsembleTracker {
  private constructor(
    private readonly net: MultiExitNet,
    private readonly y: tf.Tensor1D,
    private readonly objectives: SingleTarget[],
    readonly robust: Uint8Array,
    private found: tf.Tensor4D,
  ) {}

  static async create(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, target: ExitTarget): Promise<TargetTracker> {
    const objectives = objectivesOf(target, net.exitCount);
    const wrong = await anyObjectiveFooled(net, x, y, objectives);
    const robust = Uint8Array.from(wrong, (w) => 1 - w);
    return new TargetTracker(net, y, objectives, robust, x.clone());
  }

  pending(): number[] {
    return [...this.robust.keys()].filter((i) => this.robust[i]);
  }

  async record(rows: number[], xAdv: tf.Tensor4D): Promise<number> {
    if (rows.length === 0) return 0;
    const [ySub] = gatherRows(rows, this.y);
    const flags = await anyObjectiveFooled(this.net, xAdv, ySub, this.objectives);
    ySub.dispose();
    const fresh = rows.map((r, j) => (this.robust[r] && flags[j] ? j : -1)).filter((j) => j >= 0);
    if (fresh.length === 0) return 0;
    const mask = new Float32Array(this.robust.length);
    for (const j of fresh) {
      this.robust[rows[j]] = 0;
      mask[rows[j]] = 1;
    }
    const spread = spreadRows(xAdv, rows, this.robust.length);
    const next = mergeRows(mask, spread, this.found);
    tf.dispose([spread, this.found]);
    this.found = next;
    return fresh.length;
  }

  /** The first fooling point found per sample (else the clean one); the caller owns xAdv. */
  outcome(): AttackOutcome {
    return { xAdv: this.found, fooled: Uint8Array.from(this.robust, (r) => 1 - r) };
  }
}

/** The target's own bookkeeping, and a caller's tracker (if any) choosing the rows. */
export function withTracker(own: TargetTracker, outer: EnsembleTracker | undefined): EnsembleTracker {
  if (!outer) return own;
  return {
    pending: (o) => outer.pending(o),
    async record(rows, xAdv, component) {
      await own.record(rows, xAdv);
      return outer.record(rows, xAdv, component);
    },
  };
}

/** What a single (non-ensemble) attack does on the rows of one objective. */
export type Craft = (x: tf.Tensor4D, y: tf.Tensor1D, objective: SingleTarget, seed: number) => tf.Tensor4D | Promise<tf.Tensor4D>;

/**
 * Runs a single attack as the Attack interface does: `restarts` rounds, each once per objective of
 * the target on the rows still pending, every result recorded.
 */
export async function runPerObjective(
  net: MultiExitNet,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  request: AttackRequest,
  name: string,
  restarts: number,
  craft: Craft,
): Promise<AttackOutcome> {
  const own = await TargetTracker.create(net, x, y, request.target);
  const tracker = withTracker(own, request.tracker);
  const rng = new Rng(request.seed);
  for (let r = 0; r < restarts; r++) {
    for (const objective of objectivesOf(request.target, net.exitCount)) {
      const rows = tracker.pending(objective);
      if (rows.length === 0) continue;
      const [sx, sy] = gatherRows(rows, x, y);
      const adv = await craft(sx, sy, objective, rng.seed());
      await tracker.record(rows, adv, name);
      tf.dispose([sx, sy, adv]);
    }
  }
  return own.outcome();
}
