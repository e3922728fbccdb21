// The gradient-masking check (Athalye et al. 2018; Carlini et al. 2019, "On evaluating adversarial
// robustness"): signs that the white-box attacks' gradients mislead them rather than that the model
// is robust. Each rule reads only the accuracies of an evaluation, so it is a pure function:
// - a black-box attack (Square, alone or inside AutoAttack) beats the white-box attacks at an exit;
// - a single-step attack (FGSM) beats an iterative one (PGD, CW) at an exit;
// - an attack at a larger ε is weaker than at a smaller ε;
// - robust accuracy does not approach 0 as ε grows (at the largest radius of the sweep).
// Differences smaller than `tolerance` (default: one image) are taken for noise.
import type { AttackResult } from '../../../src-shared/evaluation';

export interface SweepPoint {
  /** Radius in /255. */
  eps: number;
  perExit: number[];
}

export interface MaskingInput {
  attacks: Array<Pick<AttackResult, 'attack' | 'label' | 'eps' | 'samples' | 'perExit' | 'gains'>>;
  sweep?: { attack: string; points: SweepPoint[] } | null;
}

export interface MaskingOptions {
  /** Accuracy differences up to this are noise (default 1/samples: a single image). */
  tolerance?: number;
  /** At the sweep's largest radius (if ≥ `largeEps`), accuracy above this draws a warning. */
  floor?: number;
  /** Radius (/255) from which robust accuracy should be near 0. */
  largeEps?: number;
}

const ITERATIVE = new Set<string>(['pgd20', 'pgd50', 'bim', 'mim', 'cw', 'cw100', 'apgd-ce', 'apgd-t', 'aa']);
const WHITE_BOX = new Set<string>([...ITERATIVE, 'fgsm', 'fab-t']);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

export function maskingWarnings(input: MaskingInput, opts: MaskingOptions = {}): string[] {
  const warnings: string[] = [];
  const attacks = input.attacks.filter((a) => a.attack !== 'clean');
  const samples = Math.max(1, ...input.attacks.map((a) => a.samples));
  const tol = opts.tolerance ?? 1 / samples + 1e-9;
  const exits = Math.max(0, ...input.attacks.map((a) => a.perExit.length));

  // 1. Square on its own against the white-box attacks at the same ε.
  for (const sq of attacks.filter((a) => a.attack === 'square')) {
    for (let e = 0; e < exits; e++) {
      const white = attacks.filter((a) => WHITE_BOX.has(a.attack) && a.attack !== 'aa' && a.eps === sq.eps && a.perExit[e] !== undefined);
      if (!white.length) continue;
      const best = white.reduce((m, a) => (a.perExit[e] < m.perExit[e] ? a : m));
      if (sq.perExit[e] < best.perExit[e] - tol) {
        warnings.push(`possible gradient masking at exit ${e + 1}: Square (black-box) leaves ${pct(sq.perExit[e])} robust, ` +
          `below the strongest white-box attack (${best.label}: ${pct(best.perExit[e])}) at ε ${sq.eps}/255`);
      }
    }
  }
  // 1b. Inside AutoAttack: points only Square fooled, after APGD-CE, APGD-T and FAB-T had failed on them.
  for (const aa of attacks.filter((a) => a.attack === 'aa' && a.gains?.square)) {
    const gains = aa.gains!.square;
    for (let e = 0; e < exits; e++) {
      if ((gains[e] ?? 0) / aa.samples > tol) {
        warnings.push(`possible gradient masking at exit ${e + 1}: within ${aa.label}, Square (black-box) fooled ${gains[e]} of ${aa.samples} images ` +
          'that APGD-CE, APGD-T and FAB-T had not');
      }
    }
  }
  // 2. A single step stronger than many.
  for (const f of attacks.filter((a) => a.attack === 'fgsm')) {
    for (const it of attacks.filter((a) => ITERATIVE.has(a.attack) && a.eps === f.eps)) {
      for (let e = 0; e < exits; e++) {
        if (f.perExit[e] !== undefined && it.perExit[e] !== undefined && f.perExit[e] < it.perExit[e] - tol) {
          warnings.push(
            `possible gradient masking at exit ${e + 1}: FGSM (${pct(f.perExit[e])}) is stronger than ${it.label} (${pct(it.perExit[e])}) at ε ${f.eps}/255`,
          );
        }
      }
    }
  }
  // 3 and 4. The ε sweep: monotone, and towards 0.
  const sweep = input.sweep;
  if (sweep && sweep.points.length) {
    const points = [...sweep.points].sort((a, b) => a.eps - b.eps);
    for (let i = 1; i < points.length; i++) {
      const [lo, hi] = [points[i - 1], points[i]];
      for (let e = 0; e < exits; e++) {
        if (hi.perExit[e] !== undefined && lo.perExit[e] !== undefined && hi.perExit[e] > lo.perExit[e] + tol) {
          warnings.push(`possible gradient masking at exit ${e + 1}: ${sweep.attack} at ε ${hi.eps}/255 leaves ${pct(hi.perExit[e])} robust, ` +
            `more than at ε ${lo.eps}/255 (${pct(lo.perExit[e])}): a larger ε-ball contains the smaller one`);
        }
      }
    }
    const last = points[points.length - 1];
    const floor = opts.floor ?? 0.1;
    if (last.eps >= (opts.largeEps ?? 32)) {
      for (let e = 0; e < exits; e++) {
        if (last.perExit[e] !== undefined && last.perExit[e] > floor) {
          warnings.push(`possible gradient masking at exit ${e + 1}: ${sweep.attack} at ε ${last.eps}/255 still leaves ${pct(last.perExit[e])} robust; ` +
            'robust accuracy should approach 0 as ε grows');
        }
      }
    }
  }
  return warnings;
}
