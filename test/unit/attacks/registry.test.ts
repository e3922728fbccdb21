// Every evaluation attack run by name through the registry (the one Attack interface), and the
// paper's BIM, MIM and CW-100 against their definitions: BIM is PGD from the clean point, MIM with
// μ = 0 is BIM, the CW margin loss on hand-made logits, and each attack raises its loss while
// staying inside the ε-ball and the image box.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { EVAL_ATTACKS, PAPER_ATTACKS } from '../../../src-shared/evaluation';
import { attackNamed, DEFAULT_SETTINGS, MIM_MOMENTUM, type AttackSettings } from '../../../src-main/engine/eval/attack-specs';
import { pgd } from '../../../src-main/engine/attacks/pgd';
import { allHeadsWrong, cwLoss, headLogits, objectiveLossOf, type SingleTarget } from '../../../src-main/engine/attacks/objective';
import { tinyBatch, tinyExitNet } from '../../helpers/tiny-exit-net';
import { useCpu } from '../../helpers/tiny-net';

const EPS = 0.06;
const REDUCED: AttackSettings = {
  ...DEFAULT_SETTINGS, aa: { ...DEFAULT_SETTINGS.aa, steps: 10, targetClasses: 2, squareQueries: 50, rescaleSquareSchedule: true },
};
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const meanLoss = (net: ReturnType<typeof tinyExitNet>, x: tf.Tensor4D, y: tf.Tensor1D, target: SingleTarget, kind: 'ce' | 'cw') =>
  tf.tidy(() => tf.mean(objectiveLossOf(headLogits(net, x, target), kind, y)).dataSync()[0]);

describe('attacks by name', () => {
  beforeAll(useCpu);

  it('the registry has every attack of EVAL_ATTACKS, the paper columns among them, each with its own label', () => {
    const labels = EVAL_ATTACKS.map((name) => attackNamed(name).label);
    expect(new Set(labels).size).toBe(EVAL_ATTACKS.length);
    expect(EVAL_ATTACKS.map((name) => attackNamed(name).name)).toEqual([...EVAL_ATTACKS]);
    expect(PAPER_ATTACKS.map((name) => attackNamed(name).label)).toEqual(['clean', 'PGD-20', 'BIM-20', 'MIM-20', 'CW∞-100', 'AutoAttack (standard)']);
    expect(() => attackNamed('pgd7' as never)).toThrow(/unknown attack 'pgd7'/);
  });

  for (const name of EVAL_ATTACKS) {
    it(`${name}: stays in the ε-ball and [0,1], reports fooled exactly where every head is wrong, and fools at least the clean mistakes`, async () => {
      const net = tinyExitNet('relu');
      const { x, y } = tinyBatch(24, 7);
      const target: SingleTarget = { kind: 'exit', index: 1 };
      const out = await attackNamed(name, REDUCED).run(net, x, y, { eps: EPS, target, seed: 3 });
      const [d, lo, hi] = tf.tidy(() => [tf.max(tf.abs(tf.sub(out.xAdv, x))), tf.min(out.xAdv), tf.max(out.xAdv)].map((t) => t.dataSync()[0]));
      expect(d).toBeLessThanOrEqual(EPS + 1e-6);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      const wrongAt = (p: tf.Tensor4D) => tf.tidy(() => Array.from(allHeadsWrong(headLogits(net, p, target), y).dataSync()));
      expect(Array.from(out.fooled)).toEqual(wrongAt(out.xAdv));
      const clean = wrongAt(x);
      clean.forEach((w, i) => w && expect(out.fooled[i]).toBe(1));
      const fooled = out.fooled.reduce((s, f) => s + f, 0);
      const cleanWrong = clean.reduce((s, f) => s + f, 0);
      if (name === 'clean') expect(fooled).toBe(cleanWrong);
      else expect(fooled).toBeGreaterThan(cleanWrong);
      tf.dispose([out.xAdv, x, y]);
      net.dispose();
    });
  }

  it('each gradient attack raises the loss it ascends (cross-entropy, or the CW margin for CW)', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(24, 9);
    const target: SingleTarget = { kind: 'average' };
    for (const name of ['fgsm', 'pgd20', 'pgd50', 'bim', 'mim', 'cw', 'cw100'] as const) {
      const kind = name.startsWith('cw') ? 'cw' : 'ce';
      const out = await attackNamed(name).run(net, x, y, { eps: EPS, target, seed: 1 });
      expect(meanLoss(net, out.xAdv, y, target, kind), name).toBeGreaterThan(meanLoss(net, x, y, target, kind));
      out.xAdv.dispose();
    }
    tf.dispose([x, y]);
    net.dispose();
  });

  it('BIM is PGD with the same steps and α started from the clean point; MIM with μ = 0 is BIM, with μ = 1 it is not', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(16, 4);
    const target: SingleTarget = { kind: 'exit', index: 0 };
    const bim = attackNamed('bim');
    expect(bim.settings).toMatchObject({ randomStart: false, alphaOfEps: 0.25 });
    expect(bim.steps).toBe(attackNamed('pgd20').steps);
    const viaRegistry = await bim.run(net, x, y, { eps: EPS, target, seed: 1 });
    const core = { eps: EPS, alpha: EPS / 4, steps: 20, restarts: 1, target, keepFooling: true, randomStart: false };
    const pgdFromClean = pgd(net, x, y, core);
    // Same images fooled, at the same points (the registry returns the clean point where nothing fooled).
    const fooledByCore = tf.tidy(() => allHeadsWrong(headLogits(net, pgdFromClean, target), y));
    expect(Array.from(viaRegistry.fooled)).toEqual(Array.from(fooledByCore.dataSync()));
    expect(viaRegistry.fooled.reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
    const right = tf.reshape(fooledByCore, [-1, 1, 1, 1]);
    expect(maxAbsDiff(tf.mul(viaRegistry.xAdv, right), tf.mul(pgdFromClean, right))).toBe(0);
    // Without keeping fooling iterates the runs compare step for step.
    const last = { ...core, keepFooling: false, alpha: 0.01, steps: 8 };
    const plainBim = pgd(net, x, y, last);
    const mim0 = pgd(net, x, y, { ...last, momentum: 0 });
    const mim1 = pgd(net, x, y, { ...last, momentum: MIM_MOMENTUM });
    expect(maxAbsDiff(mim0, plainBim)).toBe(0);
    expect(maxAbsDiff(mim1, plainBim)).toBeGreaterThan(0);
    expect(attackNamed('mim').settings).toMatchObject({ momentum: 1, randomStart: false });
    tf.dispose([right, fooledByCore, viaRegistry.xAdv, pgdFromClean, plainBim, mim0, mim1, x, y]);
    net.dispose();
  });

  it('leaves no tensors behind (fooling iterates kept, momentum, restarts, ensembles)', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(8, 5);
    const before = tf.memory().numTensors;
    for (const name of ['mim', 'cw100', 'square'] as const) {
      (await attackNamed(name, { ...REDUCED, restarts: 2 }).run(net, x, y, { eps: EPS, target: { kind: 'max-average' }, seed: 2 })).xAdv.dispose();
    }
    pgd(net, x, y, { eps: EPS, alpha: 0.01, steps: 3, restarts: 2, target: { kind: 'max-average' }, momentum: 1, keepFooling: true }).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    net.dispose();
  });

  it('the CW margin loss min(max_{k≠y} z_k − z_y, κ) on hand-made logits', () => {
    const logits = tf.tensor2d([[2, 5, 1], [3, 0, 1], [4, 1, 0]]);
    const y = tf.tensor1d([1, 0, 1], 'int32');
    expect(Array.from(cwLoss(logits, y).dataSync())).toEqual([-3, -2, 0]);
    expect(Array.from(cwLoss(logits, y, 5).dataSync())).toEqual([-3, -2, 3]);
    // Its gradient moves the true logit down and the strongest other one up.
    const g = tf.grad((z: tf.Tensor) => tf.sum(cwLoss(z as tf.Tensor2D, y, 10)))(logits);
    expect(Array.from(g.dataSync())).toEqual([1, -1, 0, -1, 0, 1, 1, -1, 0]);
    tf.dispose([logits, y, g]);
  });
});
