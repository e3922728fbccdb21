// The registry of evaluation attacks: every name of EVAL_ATTACKS (src-shared/evaluation.ts) maps to
// one Attack (attacks/attack.ts) built from the evaluation's settings, so the runner, the CLI and
// the tests run any of them by name. Step sizes are fractions of ε so the settings hold at any
// radius (α = ε/4 is the usual 2/255 at ε = 8/255).
import { AA_COMPONENTS, ATTACK_STEPS, attackName, type AaComponent, type EvalAttack } from '../../../src-shared/evaluation';
import { AA_STANDARD, isStandardAutoAttack, runAutoAttack, type AutoAttackOptions } from '../attacks/autoattack';
import { runPerObjective, TargetTracker, withTracker, type Attack } from '../attacks/attack';
import { objectivesOf } from '../attacks/loss';
import { pgd, type PgdOptions } from '../attacks/pgd';

export type AaSettings = Omit<AutoAttackOptions, 'eps' | 'seed' | 'components'>;

export interface AttackSettings {
  /** Restarts of PGD and CW (each restart's points count). */
  restarts: number;
  aa: AaSettings;
}

export const DEFAULT_SETTINGS: AttackSettings = {
  restarts: 1,
  aa: {
    steps: AA_STANDARD.steps, targetClasses: AA_STANDARD.targetClasses, squareQueries: AA_STANDARD.squareQueries, restarts: AA_STANDARD.restarts,
    rescaleSquareSchedule: false,
  },
};

/** MIM's decay factor μ (Dong et al. 2018 use 1.0). */
export const MIM_MOMENTUM = 1;

/** A member of the sign-gradient family (attacks/pgd.ts) with its settings. */
interface SignGradient {
  steps: number;
  alphaOfEps: number;
  restarts: number;
  randomStart: boolean;
  momentum?: number;
  loss?: PgdOptions['loss'];
}

function signGradientAttack(name: EvalAttack, g: SignGradient): Attack {
  const label = `${attackName(name, g.steps)}${g.restarts > 1 ? ` ×${g.restarts}` : ''}`;
  const settings: Record<string, unknown> = { alphaOfEps: g.alphaOfEps, randomStart: g.randomStart, loss: g.loss ?? 'ce' };
  if (g.momentum !== undefined) settings.momentum = g.momentum;
  return {
    name, label, steps: g.steps, restarts: g.restarts, settings,
    run: (net, x, y, req) => runPerObjective(net, x, y, req, name, g.restarts, (sx, sy, objective, seed) => pgd(net, sx, sy, {
      eps: req.eps, alpha: g.alphaOfEps * req.eps, steps: g.steps, restarts: 1, target: objective, seed,
      randomStart: g.randomStart, momentum: g.momentum, loss: g.loss, keepFooling: true,
    })),
  };
}

function ensembleAttack(name: EvalAttack, components: AaComponent[], aa: AaSettings): Attack {
  let label: string;
  if (name === 'aa') {
    const standard = isStandardAutoAttack({ ...aa, components: AA_COMPONENTS });
    const reduced = `reduced: ${aa.steps} it, ${aa.targetClasses} targets, ${aa.squareQueries} queries${aa.restarts !== 1 ? `, ${aa.restarts} restarts` : ''}`;
    label = `AutoAttack (${standard ? 'standard' : reduced})`;
  } else label = attackName(name, aa.steps);
  return {
    name, label, steps: components.length === 1 && components[0] === 'square' ? 0 : aa.steps, restarts: aa.restarts,
    settings: { ...aa, components },
    async run(net, x, y, req) {
      const own = await TargetTracker.create(net, x, y, req.target);
      await runAutoAttack(
        net, x, y, objectivesOf(req.target, net.exitCount), { eps: req.eps, ...aa, components, seed: req.seed }, withTracker(own, req.tracker),
      );
      return own.outcome();
    },
  };
}

const CLEAN: Attack = {
  name: 'clean', label: 'clean', steps: 0, restarts: 0, settings: {},
  run: async (net, x, y, req) => (await TargetTracker.create(net, x, y, req.target)).outcome(),
};

const REGISTRY: Record<EvalAttack, (s: AttackSettings) => Attack> = {
  clean: () => CLEAN,
  fgsm: () => signGradientAttack('fgsm', { steps: ATTACK_STEPS.fgsm, alphaOfEps: 1, restarts: 1, randomStart: false }),
  pgd20: (s) => signGradientAttack('pgd20', { steps: ATTACK_STEPS.pgd20, alphaOfEps: 0.25, restarts: s.restarts, randomStart: true }),
  pgd50: (s) => signGradientAttack('pgd50', { steps: ATTACK_STEPS.pgd50, alphaOfEps: 0.25, restarts: s.restarts, randomStart: true }),
  // BIM is PGD-20 from the clean point: with no random start, restarts would repeat the same run.
  bim: () => signGradientAttack('bim', { steps: ATTACK_STEPS.bim, alphaOfEps: 0.25, restarts: 1, randomStart: false }),
  mim: () => signGradientAttack('mim', { steps: ATTACK_STEPS.mim, alphaOfEps: 0.25, restarts: 1, randomStart: false, momentum: MIM_MOMENTUM }),
  cw: (s) => signGradientAttack('cw', { steps: ATTACK_STEPS.cw, alphaOfEps: 0.25, restarts: s.restarts, randomStart: true, loss: 'cw' }),
  // The paper's CW-100: the CW margin loss ascended for 100 L∞ steps, as PGD.
  cw100: (s) => signGradientAttack('cw100', { steps: ATTACK_STEPS.cw100, alphaOfEps: 0.25, restarts: s.restarts, randomStart: true, loss: 'cw' }),
  'apgd-ce': (s) => ensembleAttack('apgd-ce', ['apgd-ce'], s.aa),
  'apgd-t': (s) => ensembleAttack('apgd-t', ['apgd-t'], s.aa),
  'fab-t': (s) => ensembleAttack('fab-t', ['fab-t'], s.aa),
  square: (s) => ensembleAttack('square', ['square'], s.aa),
  aa: (s) => ensembleAttack('aa', [...AA_COMPONENTS], s.aa),
};

/** The attack of that name with the evaluation's settings. */
export function attackNamed(name: EvalAttack, settings: AttackSettings = DEFAULT_SETTINGS): Attack {
  const make = REGISTRY[name];
  if (!make) throw new Error(`unknown attack '${name}'`);
  return make(settings);
}
