import { describe, expect, it } from 'vitest';
import { attackLabel, compact, duration, pct } from '../../src-renderer/src/lib/format';

describe('renderer formatting', () => {
  it('names attacks as papers do, whatever the store calls them', () => {
    expect(attackLabel('clean', 0, 0)).toBe('clean');
    expect(attackLabel('pgd', 10, 8)).toBe('PGD-10 · ε 8/255');
    expect(attackLabel('pgd20', 20, 8)).toBe('PGD-20 · ε 8/255');
    expect(attackLabel('cw', 30, 8)).toBe('CW∞-30 · ε 8/255');
    expect(attackLabel('aa', 100, 4)).toBe('AutoAttack · ε 4/255');
    expect(attackLabel('apgd-t', 100, 8)).toBe('APGD-T · ε 8/255');
  });

  it('formats percentages, durations and large counts, with a dash for missing values', () => {
    expect(pct(0.1234)).toBe('12.3%');
    expect(pct(null)).toBe('—');
    expect(duration(59)).toBe('59 s');
    expect(duration(3725)).toBe('1 h 02 min');
    expect(compact(75_407_104)).toBe('75.41 M');
  });
});
