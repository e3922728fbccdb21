import { describe, expect, it } from 'vitest';
import type { LrSchedule } from '../../../src-shared/config';
import { lambdaAt, learningRate } from '../../../src-main/engine/train/schedules';
import { paperLambda } from '../../../src-shared/presets';
import { detectOverfitting, initialOverfitState } from '../../../src-main/engine/train/monitor';
import { mixSeed } from '../../../src-main/random';

describe('schedules', () => {
  it('piecewise learning rate drops by the factor at each milestone', () => {
    const s: LrSchedule = { kind: 'piecewise', max: 0.1, milestones: [0.5, 0.75], factor: 0.1 };
    expect(learningRate(s, 0, 100)).toBeCloseTo(0.1);
    expect(learningRate(s, 49, 100)).toBeCloseTo(0.1);
    expect(learningRate(s, 50, 100)).toBeCloseTo(0.01);
    expect(learningRate(s, 80, 100)).toBeCloseTo(0.001);
  });

  it('cyclic learning rate rises to its peak at 2/5 and returns to 0', () => {
    const s = { kind: 'cyclic', max: 0.2 } as const;
    expect(learningRate(s, 0, 100)).toBe(0);
    expect(learningRate(s, 40, 100)).toBeCloseTo(0.2);
    expect(learningRate(s, 20, 100)).toBeCloseTo(0.1);
    expect(learningRate(s, 70, 100)).toBeCloseTo(0.1);
    expect(learningRate(s, 100, 100)).toBeCloseTo(0);
  });

  it('λ warms up linearly and the paper setting is the 7-exit CIFAR one', () => {
    expect(paperLambda(7)).toEqual([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]);
    expect(lambdaAt([0.1, 0.2], 1, 4)).toEqual([0.025, 0.05]);
    expect(lambdaAt([0.1, 0.2], 5, 4)).toEqual([0.1, 0.2]);
    expect(lambdaAt([0.1, 0.2], 1, 0)).toEqual([0.1, 0.2]);
  });

  it('seeds differ per step and stay reproducible', () => {
    expect(mixSeed(0, 1, 2)).toBe(mixSeed(0, 1, 2));
    expect(new Set([mixSeed(0, 1, 2), mixSeed(0, 2, 1), mixSeed(1, 1, 2), mixSeed(0, 1, 3)]).size).toBe(4);
    // A whole number in [0, 2^32), negative parts included: a valid seed for Rng and for tfjs.
    expect(Number.isInteger(mixSeed(0, 1, -1))).toBe(true);
    expect(mixSeed(0, 1, -1)).toBeGreaterThanOrEqual(0);
    expect(mixSeed(0, 1, -1)).toBeLessThan(2 ** 32);
  });
});

describe('catastrophic-overfitting detector', () => {
  it('flags an exit whose PGD accuracy collapses while its FGSM accuracy rises', () => {
    let state = initialOverfitState(2);
    let r = detectOverfitting(state, { fgsm: [0.4, 0.45], pgd: [0.3, 0.35] });
    expect(r.detected).toBe(false);
    state = r.next;
    r = detectOverfitting(state, { fgsm: [0.42, 0.9], pgd: [0.31, 0.02] });
    expect(r.detected).toBe(true);
    expect(r.exits).toEqual([1]);
    expect(r.reason).toContain('exit 2');
  });

  it('does not flag a PGD drop that comes with an FGSM drop (plain instability)', () => {
    const state = detectOverfitting(initialOverfitState(1), { fgsm: [0.5], pgd: [0.4] }).next;
    expect(detectOverfitting(state, { fgsm: [0.3], pgd: [0.1] }).detected).toBe(false);
    expect(detectOverfitting(state, { fgsm: [0.5], pgd: [0.25] }).detected).toBe(false);
  });
});
