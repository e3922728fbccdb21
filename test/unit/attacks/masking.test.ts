// The gradient-masking check on constructed evaluation results: each rule fires when its sign is
// there and stays quiet on a clean, monotone evaluation.
import { describe, expect, it } from 'vitest';
import { maskingWarnings, type MaskingInput } from '../../../src-main/engine/eval/masking';

type A = MaskingInput['attacks'][number];
const attack = (attack: A['attack'], perExit: number[], extra: Partial<A> = {}): A => ({
  attack, label: attack.toUpperCase(), eps: attack === 'clean' ? 0 : 8, samples: 100, perExit, gains: null, ...extra,
});

const healthy: MaskingInput = {
  attacks: [
    attack('clean', [0.8, 0.9]), attack('fgsm', [0.5, 0.55]), attack('pgd20', [0.4, 0.45]), attack('square', [0.45, 0.5]),
    attack('aa', [0.38, 0.42], { gains: { 'apgd-ce': [30, 40], square: [0, 0] } }),
  ],
  sweep: {
    attack: 'PGD-20',
    points: [{ eps: 8, perExit: [0.4, 0.45] }, { eps: 16, perExit: [0.2, 0.2] }, { eps: 32, perExit: [0.03, 0.05] }, { eps: 64, perExit: [0, 0] }],
  },
};

describe('gradient-masking check', () => {
  it('is quiet on a healthy evaluation', () => {
    expect(maskingWarnings(healthy)).toEqual([]);
  });

  it('warns when Square (black-box) beats every white-box attack at an exit', () => {
    const input = { ...healthy, attacks: healthy.attacks.map((a) => (a.attack === 'square' ? { ...a, perExit: [0.45, 0.3] } : a)) };
    const w = maskingWarnings(input);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/exit 2: Square \(black-box\) leaves 30\.0% robust, below the strongest white-box attack \(PGD20: 45\.0%\)/);
  });

  it('warns when Square fooled points inside AutoAttack that the white-box components had not', () => {
    const input = { ...healthy, attacks: healthy.attacks.map((a) => (a.attack === 'aa' ? { ...a, gains: { 'apgd-ce': [30, 40], square: [0, 5] } } : a)) };
    expect(maskingWarnings(input)).toEqual([expect.stringMatching(/exit 2: within AA, Square \(black-box\) fooled 5 of 100 images/)]);
  });

  it('warns when FGSM beats an iterative attack', () => {
    const input = { ...healthy, attacks: healthy.attacks.map((a) => (a.attack === 'fgsm' ? { ...a, perExit: [0.3, 0.55] } : a)) };
    expect(maskingWarnings(input)).toEqual([
      expect.stringMatching(/exit 1: FGSM \(30\.0%\) is stronger than PGD20 \(40\.0%\)/), expect.stringMatching(/exit 1: FGSM \(30\.0%\) is stronger than AA/),
    ]);
  });

  it('warns when a larger ε is weaker, and when accuracy does not approach 0 as ε grows', () => {
    const input = { ...healthy, sweep: {
      attack: 'PGD-20',
      points: [{ eps: 8, perExit: [0.4, 0.45] }, { eps: 16, perExit: [0.2, 0.5] }, { eps: 32, perExit: [0.1, 0.4] }, { eps: 64, perExit: [0.02, 0.35] }],
    } };
    const w = maskingWarnings(input);
    expect(w).toEqual([
      expect.stringMatching(/exit 2: PGD-20 at ε 16\/255 leaves 50\.0% robust, more than at ε 8\/255 \(45\.0%\)/),
      expect.stringMatching(/exit 2: PGD-20 at ε 64\/255 still leaves 35\.0% robust/),
    ]);
  });

  it('takes a one-image difference for noise', () => {
    const input = { ...healthy, attacks: healthy.attacks.map((a) => (a.attack === 'square' ? { ...a, perExit: [0.39, 0.44] } : a)) };
    expect(maskingWarnings(input)).toEqual([]);
  });
});
