// One attack's result from the outcomes of its batches, taken in image order: the counts, the
// per-image strings and the sums of costs are added batch by batch in that order, so the result
// is the same, float for float, however many workers computed the batches.
import type { AttackResult, EarlyExitPoint, EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget } from '../model/multi-exit';
import { attackNamed, type AttackSettings } from './attack-specs';
import type { BatchOutcome } from './batch-attack';
import { exitShare, meanCost, type Calibration } from './early-exit';

export interface MergeContext {
  exits: number;
  budgets: Array<Calibration & { fraction: number }>;
  /** Cost (MACs) of leaving at each exit. */
  costs: number[];
  /** L∞ radius in [0,1] pixel units. */
  eps: number;
  target: ExitTarget;
  settings: AttackSettings;
}

function describe(target: ExitTarget): string {
  return target.kind === 'exit' ? `exit:${target.index + 1}` : target.kind;
}

/** Per exit, the target whose attack a number measures (null: the target aims elsewhere). */
function aimedAt(target: ExitTarget, exits: number): Array<string | null> {
  const name = describe(target);
  return Array.from({ length: exits }, (_, e) => (target.kind !== 'exit' || target.index === e ? name : null));
}

export function mergeAttack(name: EvalAttack, outcomes: BatchOutcome[], ctx: MergeContext): AttackResult {
  const { exits, budgets } = ctx;
  const attack = attackNamed(name, ctx.settings);
  const classifiers = exits + budgets.length;
  const robust = new Array(classifiers).fill(0);
  const robustImages: string[][] = Array.from({ length: classifiers }, () => []);
  const macs = new Array(budgets.length).fill(0);
  const share = budgets.map(() => new Array(exits).fill(0));
  const components = Array.isArray(attack.settings.components) ? (attack.settings.components as string[]) : [];
  // Every component run is listed, also one that fooled nothing.
  const gains = new Map<string, number[]>(components.map((c) => [c, new Array(classifiers).fill(0)]));
  let n = 0;
  let seconds = 0;
  for (const o of outcomes) {
    o.robust.forEach((r, c) => {
      robust[c] += r.reduce((s, v) => s + v, 0);
      robustImages[c].push(Array.from(r).join(''));
    });
    o.taken.forEach((taken, k) => {
      macs[k] += meanCost(taken, ctx.costs) * taken.length;
      exitShare(taken, exits).forEach((v, e) => (share[k][e] += v * taken.length));
    });
    for (const [component, g] of Object.entries(o.gains)) {
      const sum = gains.get(component) ?? new Array(g.length).fill(0);
      gains.set(component, sum.map((v, i) => v + g[i]));
    }
    n += o.robust[0].length;
    seconds += o.seconds;
  }
  const earlyExit: EarlyExitPoint[] = budgets.map((bud, k) => ({
    fraction: bud.fraction,
    budgetMacs: bud.budget,
    threshold: bud.threshold,
    feasible: bud.feasible,
    aimed: ctx.target.kind !== 'exit',
    accuracy: robust[exits + k] / n,
    macs: macs[k] / n,
    exitShare: share[k].map((v) => v / n),
  }));
  const settings: Record<string, unknown> = { target: describe(ctx.target), ...attack.settings };
  if (typeof attack.settings.alphaOfEps === 'number') settings.alpha255 = attack.settings.alphaOfEps * ctx.eps * 255;
  const joined = robustImages.map((parts) => parts.join(''));
  return {
    attack: name,
    label: attack.label,
    eps: name === 'clean' ? 0 : ctx.eps * 255,
    steps: attack.steps,
    restarts: attack.restarts,
    samples: n,
    settings,
    perExit: robust.slice(0, exits).map((v) => v / n),
    aimedAt: name === 'clean' ? new Array(exits).fill('none') : aimedAt(ctx.target, exits),
    earlyExit: name === 'clean' ? earlyExit.map((p) => ({ ...p, aimed: true })) : earlyExit,
    gains: components.length ? Object.fromEntries(gains) : null,
    robustImages: { exits: joined.slice(0, exits), earlyExit: joined.slice(exits) },
    // Time spent on the attack's batches: its wall time on one worker, its cost in thread time on several.
    seconds,
  };
}
