// The evaluation runner on small nets: robust accuracy ordered clean ≥ FGSM, PGD ≥ AutoAttack at
// every exit (the tracker keeps, per image and classifier, the worst case over an attack's
// candidates, so AutoAttack, which includes APGD-CE and more, must not be weaker than PGD beyond
// noise), and every attack's points inside the ε-ball and the image box.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fgsm } from '../../../src-main/engine/attacks/fgsm';
import { pgd } from '../../../src-main/engine/attacks/pgd';
import { cwInf } from '../../../src-main/engine/attacks/cw';
import { apgd } from '../../../src-main/engine/attacks/apgd';
import { fabTargeted, rankedClasses } from '../../../src-main/engine/attacks/fab';
import { objectiveMarginFn, square } from '../../../src-main/engine/attacks/square';
import { AA_STANDARD, autoAttack } from '../../../src-main/engine/attacks/autoattack';
import { DEFAULT_SETTINGS } from '../../../src-main/engine/eval/attack-specs';
import { evaluateRobustness } from '../../../src-main/engine/eval/robustness';
import type { ImageSet } from '../../../src-main/engine/eval/batch-attack';
import { exitCosts } from '../../../src-main/engine/eval/early-exit';
import type { MultiExitNet } from '../../../src-main/engine/model/multi-exit';
import { tinyBatch, tinyExitNet, TINY_SHAPE } from '../../helpers/tiny-exit-net';
import { randomBatch, tinyNet, useCpu } from '../../helpers/tiny-net';

async function imageSet(x: tf.Tensor4D, y: tf.Tensor1D): Promise<ImageSet> {
  return { x: (await x.data()) as Float32Array, y: Int32Array.from(await y.data()), count: x.shape[0], shape: x.shape.slice(1) as [number, number, number] };
}

function insideBall(xAdv: tf.Tensor4D, x: tf.Tensor4D, eps: number): void {
  const [d, lo, hi] = tf.tidy(() => [tf.max(tf.abs(tf.sub(xAdv, x))), tf.min(xAdv), tf.max(xAdv)].map((t) => t.dataSync()[0]));
  expect(d).toBeLessThanOrEqual(eps + 1e-6);
  expect(lo).toBeGreaterThanOrEqual(0);
  expect(hi).toBeLessThanOrEqual(1);
}

describe('robust accuracy ordering and the ε-ball', () => {
  beforeAll(useCpu);

  it('clean ≥ FGSM, clean ≥ PGD-20 ≥ CW, PGD-20 ≥ AutoAttack at every exit and for the early-exit model (tiny net, max-average)', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(64, 21);
    const cal = tinyBatch(64, 22);
    const images = await imageSet(x, y);
    const out = await evaluateRobustness(net, images, await imageSet(cal.x, cal.y), {
      eps: 0.04, attacks: ['clean', 'fgsm', 'pgd20', 'cw', 'aa'], target: { kind: 'max-average' },
      settings: { ...DEFAULT_SETTINGS, aa: { ...DEFAULT_SETTINGS.aa, squareQueries: 500, rescaleSquareSchedule: true } },
      budgets: [0.8, 1], costs: exitCosts(net.summary).macs, batchSize: 32, seed: 1,
    });
    const acc = Object.fromEntries(out.attacks.map((a) => [a.attack, [...a.perExit, ...a.earlyExit.map((p) => p.accuracy)]]));
    const noise = 1 / 64 + 1e-9;
    for (let c = 0; c < acc.clean.length; c++) {
      expect(acc.fgsm[c]).toBeLessThanOrEqual(acc.clean[c]);
      expect(acc.pgd20[c]).toBeLessThanOrEqual(acc.clean[c]);
      expect(acc.cw[c]).toBeLessThanOrEqual(acc.clean[c]);
      expect(acc.aa[c]).toBeLessThanOrEqual(acc.pgd20[c] + noise);
      expect(acc.aa[c]).toBeLessThanOrEqual(acc.cw[c] + noise);
    }
    // The attacks have work to do and do it: not everything fooled, not nothing.
    // (the labels are exit 1's clean predictions)
    expect(acc.clean[0]).toBeGreaterThan(0.9);
    expect(acc.aa[0]).toBeGreaterThan(0);
    expect(acc.aa[0]).toBeLessThan(0.9);
    const aa = out.attacks.find((a) => a.attack === 'aa')!;
    expect(aa.label).toMatch(/AutoAttack \(reduced: 100 it, 9 targets, 500 queries\)/);
    expect(Object.keys(aa.gains ?? {})).toEqual(expect.arrayContaining(['apgd-ce']));
    tf.dispose([x, y, cal.x, cal.y]);
    net.dispose();
  });

  it('every attack keeps its points inside the ε-ball and [0,1] on an MSDNet (also near the box edges)', async () => {
    const net: MultiExitNet = tinyNet(3);
    const { x: raw, y } = randomBatch(3, 5);
    // Push some pixels onto the box edges, where the ball must be clipped.
    const x = tf.tidy(() => tf.clipByValue(tf.sub(tf.mul(raw, 1.4), 0.2), 0, 1)) as tf.Tensor4D;
    const eps = 8 / 255;
    const target = { kind: 'exit', index: 1 } as const;
    const points: tf.Tensor4D[] = [
      fgsm(net, x, y, { eps, alpha: eps, randomStart: false, target }),
      fgsm(net, x, y, { eps, alpha: 1.25 * eps, randomStart: true, target, seed: 1 }),
      pgd(net, x, y, { eps, alpha: eps / 4, steps: 3, restarts: 2, target: { kind: 'max-average' }, seed: 2 }),
      (await cwInf(net, x, y, { eps, alpha: eps / 4, steps: 3, restarts: 1, target, seed: 3 })).xAdv,
      (await apgd(net, x, y, { eps, norm: 'linf', steps: 4, restarts: 2, loss: 'ce', target, seed: 4 })).xAdv,
      (await fabTargeted(net, x, y, tf.tensor1d(await rankedClasses(net, x, target, 2), 'int32'), { eps, steps: 3, restarts: 2, target, seed: 5 })).xAdv,
      (await square(x, y, objectiveMarginFn(net, target), { eps, queries: 20, seed: 6 })).xAdv,
      (await autoAttack(net, x, y, { kind: 'average' }, { eps, ...AA_STANDARD, steps: 3, targetClasses: 2, squareQueries: 10, seed: 7 })).xAdv,
    ];
    for (const p of points) insideBall(p, x, eps);
    tf.dispose([...points, x, raw, y]);
    net.dispose();
  });

  it('L2 APGD stays inside the L2 ball and [0,1]', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(16, 2);
    const eps = 0.1;
    const r = await apgd(net, x, y, { eps, norm: 'l2', steps: 20, restarts: 1, loss: 'dlr', target: { kind: 'exit', index: 0 }, seed: 1 });
    const [d, lo, hi] = tf.tidy(
      () => [tf.max(tf.sqrt(tf.sum(tf.square(tf.sub(r.xAdv, x)), [1, 2, 3]))), tf.min(r.xAdv), tf.max(r.xAdv)].map((t) => t.dataSync()[0]),
    );
    expect(d).toBeLessThanOrEqual(eps + 1e-5);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(TINY_SHAPE).toEqual([2, 2, 1]);
    tf.dispose([x, y, r.xAdv]);
    net.dispose();
  });
});
