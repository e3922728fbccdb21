import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fgsm } from '../../../src-main/engine/attacks/fgsm';
import { pgd } from '../../../src-main/engine/attacks/pgd';
import { averageLoss, exitLosses, objectiveLoss } from '../../../src-main/engine/attacks/loss';
import type { ExitTarget } from '../../../src-main/engine/model/multi-exit';
import { mixSeed } from '../../../src-main/random';
import { randomBatch, tinyNet, useCpu } from '../../helpers/tiny-net';

const eps = 8 / 255;

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('attacks on a multi-exit network', () => {
  beforeAll(useCpu);
  const net = tinyNet(3);
  const { x, y } = randomBatch(4, 11);
  const meanLoss = (input: tf.Tensor4D, target: ExitTarget) => tf.tidy(() => tf.mean(objectiveLoss(net.forward(input, false), y, target)).dataSync()[0]);

  it('FGSM stays in the ε-ball and the image box, and raises the targeted loss', () => {
    for (const target of [{ kind: 'exit', index: 0 }, { kind: 'exit', index: 2 }, { kind: 'average' }] as ExitTarget[]) {
      const adv = fgsm(net, x, y, { eps, alpha: eps, randomStart: false, target });
      expect(maxAbs(adv, x)).toBeLessThanOrEqual(eps + 1e-6);
      expect(tf.min(adv).dataSync()[0]).toBeGreaterThanOrEqual(0);
      expect(tf.max(adv).dataSync()[0]).toBeLessThanOrEqual(1);
      expect(meanLoss(adv, target)).toBeGreaterThan(meanLoss(x, target));
      adv.dispose();
    }
  });

  it('FGSM with random start is deterministic for a seed and differs across seeds', () => {
    const target: ExitTarget = { kind: 'average' };
    const a = fgsm(net, x, y, { eps, alpha: 1.25 * eps, randomStart: true, target, seed: 1 });
    const b = fgsm(net, x, y, { eps, alpha: 1.25 * eps, randomStart: true, target, seed: 1 });
    const c = fgsm(net, x, y, { eps, alpha: 1.25 * eps, randomStart: true, target, seed: 2 });
    expect(maxAbs(a, b)).toBe(0);
    expect(maxAbs(a, c)).toBeGreaterThan(0);
    expect(maxAbs(a, x)).toBeLessThanOrEqual(eps + 1e-6);
    tf.dispose([a, b, c]);
  });

  it('PGD is at least as strong as FGSM on its objective and stays in the ball', () => {
    const target: ExitTarget = { kind: 'exit', index: 1 };
    const f = fgsm(net, x, y, { eps, alpha: eps, randomStart: false, target });
    const p = pgd(net, x, y, { eps, alpha: 2 / 255, steps: 10, restarts: 2, target, seed: 3 });
    expect(maxAbs(p, x)).toBeLessThanOrEqual(eps + 1e-6);
    expect(meanLoss(p, target)).toBeGreaterThanOrEqual(meanLoss(f, target) - 1e-3);
    tf.dispose([f, p]);
  });

  it('max-average keeps, per sample, the candidate with the highest average loss', () => {
    const opts = { eps, alpha: 2 / 255, steps: 3, restarts: 1, seed: 4 };
    const chosen = pgd(net, x, y, { ...opts, target: { kind: 'max-average' } });
    const perSample = (input: tf.Tensor4D) => tf.tidy(() => Array.from(averageLoss(exitLosses(net.forward(input, false), y)).dataSync()));
    const chosenLoss = perSample(chosen);
    const candidates: ExitTarget[] = [0, 1, 2].map((index) => ({ kind: 'exit', index }) as ExitTarget).concat([{ kind: 'average' }]);
    candidates.forEach((target, i) => {
      const adv = pgd(net, x, y, { ...opts, target, seed: mixSeed(4, i) });
      perSample(adv).forEach((l, s) => expect(chosenLoss[s]).toBeGreaterThanOrEqual(l - 1e-5));
      adv.dispose();
    });
    chosen.dispose();
  });

  it('does not leak tensors', () => {
    const before = tf.memory().numTensors;
    const adv = pgd(net, x, y, { eps, alpha: 2 / 255, steps: 2, restarts: 2, target: { kind: 'max-average' }, seed: 1 });
    adv.dispose();
    fgsm(net, x, y, { eps, alpha: eps, randomStart: true, target: { kind: 'average' } }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
