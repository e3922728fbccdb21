// The attacks of an evaluation and their settings. Step sizes are fractions of ε so presets hold
// at any radius (α = ε/4 is the usual 2/255 at ε = 8/255).
import type { EvalAttack } from '../../../src-shared/evaluation';
import { AA_COMPONENTS, AA_STANDARD, isStandardAutoAttack, type AaComponent, type AutoAttackOptions } from '../attacks/autoattack';

export type AaSettings = Omit<AutoAttackOptions, 'eps' | 'seed' | 'components'>;

export interface AttackSettings {
  /** Restarts of PGD and CW (each restart's points count). */
  restarts: number;
  aa: AaSettings;
}

export const DEFAULT_SETTINGS: AttackSettings = {
  restarts: 1,
  aa: { steps: AA_STANDARD.steps, targetClasses: AA_STANDARD.targetClasses, squareQueries: AA_STANDARD.squareQueries, restarts: AA_STANDARD.restarts, rescaleSquareSchedule: false },
};

export type AttackPlan =
  | { attack: 'clean'; label: string }
  | { attack: 'fgsm'; label: string; alphaOfEps: number }
  | { attack: 'pgd20' | 'pgd50' | 'cw'; label: string; steps: number; alphaOfEps: number; restarts: number }
  | { attack: 'aa' | AaComponent; label: string; components: AaComponent[]; aa: AaSettings };

export function planAttack(attack: EvalAttack, s: AttackSettings): AttackPlan {
  switch (attack) {
    case 'clean':
      return { attack, label: 'clean' };
    case 'fgsm':
      return { attack, label: 'FGSM', alphaOfEps: 1 };
    case 'pgd20':
    case 'pgd50': {
      const steps = attack === 'pgd20' ? 20 : 50;
      return { attack, label: `PGD-${steps}${s.restarts > 1 ? ` ×${s.restarts}` : ''}`, steps, alphaOfEps: 0.25, restarts: s.restarts };
    }
    case 'cw':
      return { attack, label: `CW∞-30${s.restarts > 1 ? ` ×${s.restarts}` : ''}`, steps: 30, alphaOfEps: 0.25, restarts: s.restarts };
    case 'aa': {
      const standard = isStandardAutoAttack({ ...s.aa, components: AA_COMPONENTS });
      const reduced = `reduced: ${s.aa.steps} it, ${s.aa.targetClasses} targets, ${s.aa.squareQueries} queries${s.aa.restarts !== 1 ? `, ${s.aa.restarts} restarts` : ''}`;
      return { attack, label: `AutoAttack (${standard ? 'standard' : reduced})`, components: [...AA_COMPONENTS], aa: s.aa };
    }
    default: {
      const names: Record<AaComponent, string> = { 'apgd-ce': 'APGD-CE', 'apgd-t': 'APGD-T', 'fab-t': 'FAB-T', square: 'Square' };
      return { attack, label: names[attack], components: [attack], aa: s.aa };
    }
  }
}

/** Steps reported for an attack (gradient iterations per run). */
export function stepsOf(plan: AttackPlan): number {
  if (plan.attack === 'clean') return 0;
  if (plan.attack === 'fgsm') return 1;
  if ('steps' in plan) return plan.steps;
  return plan.components.length === 1 && plan.components[0] === 'square' ? 0 : plan.aa.steps;
}
