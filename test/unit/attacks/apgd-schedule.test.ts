// APGD's step-size schedule against Croce & Hein (ICML 2020), section 3.2: checkpoints
// w_j = ⌈p_j N⌉ with p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06); the step
// starts at 2ε and is halved at a checkpoint when (1) the loss rose in fewer than ρ = 0.75 of the
// steps since the last checkpoint, or (2) the step was not halved at the last checkpoint and the
// best loss has not improved since.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { apgd, apgdCheckpointFractions, apgdCheckpoints, ApgdStepControl } from '../../../src-main/engine/attacks/apgd';
import { tinyBatch, tinyExitNet } from '../../helpers/tiny-exit-net';
import { useCpu } from '../../helpers/tiny-net';

describe('APGD checkpoints and step size (Croce & Hein 2020)', () => {
  beforeAll(useCpu);

  it('checkpoint fractions follow p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)', () => {
    const p = apgdCheckpointFractions();
    const expected = [0, 0.22, 0.41, 0.57, 0.7, 0.8, 0.87, 0.93, 0.99];
    expect(p).toHaveLength(expected.length);
    p.forEach((v, j) => expect(v).toBeCloseTo(expected[j], 10));
  });

  it('checkpoints for N = 100 are the reference implementation\'s iterations', () => {
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(10)).toEqual([3, 5, 6, 7, 8, 9, 10]);
  });

  it('a loss rising at every step keeps the step size', () => {
    const c = new ApgdStepControl(1, 0.1, [0], 100);
    for (let k = 1; k <= 100; k++) {
      const { halve } = c.observe(k, [k]);
      if (halve) expect(halve[0]).toBe(0);
    }
    expect(c.stepSize[0]).toBeCloseTo(0.1);
  });

  it('condition 1: a loss that rose in fewer than 75% of the steps halves the step at the checkpoint', () => {
    const c = new ApgdStepControl(1, 0.1, [0], 100);
    const halvedAt: number[] = [];
    // Rises on 2 of every 3 steps (< 0.75), best loss keeps improving.
    let loss = 0;
    for (let k = 1; k <= 100; k++) {
      loss += k % 3 === 0 ? -0.5 : 1;
      const { halve } = c.observe(k, [loss]);
      if (halve?.[0]) halvedAt.push(k);
    }
    expect(halvedAt).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(c.stepSize[0]).toBeCloseTo(0.1 / 2 ** 8);
  });

  it('condition 2: no improvement of the best loss since a checkpoint where the step was kept halves it; right after a halving it does not', () => {
    const c = new ApgdStepControl(2, 0.1, [0, 0], 100);
    const halved: number[][] = [[], []];
    for (let k = 1; k <= 100; k++) {
      // Sample 0: rises at every step until 22, then flat (never rises, never improves).
      // Sample 1: rises at every step until 41, then stays below its best with ≥ 75% rises in each window.
      const l0 = k <= 22 ? k : 22;
      const l1 = k <= 41 ? k : 30 + ((k - 41) % 10) * 0.5;
      const { halve } = c.observe(k, [l0, l1]);
      halve?.forEach((h, i) => h && halved[i].push(k));
    }
    // Sample 0 at 41: the loss never rose (condition 1) → halved at every later checkpoint.
    expect(halved[0]).toEqual([41, 57, 70, 80, 87, 93, 99]);
    // Sample 1 at 57: loss rose in 14 of 16 steps (≥ 75%), step kept at 41, best unchanged since 41 → halved (condition 2).
    expect(halved[1][0]).toBe(57);
  });

  it('a real run starts at 2ε, changes the step only at checkpoints and only by halving, and stays in the ε-ball and [0,1]', async () => {
    const net = tinyExitNet('relu');
    const { x, y } = tinyBatch(12, 9);
    const eps = 0.05;
    const seen: Float32Array[] = [];
    const r = await apgd(net, x, y, {
      eps, norm: 'linf', steps: 50, restarts: 1, loss: 'ce', target: { kind: 'exit', index: 1 }, seed: 1,
      onIteration: (_k, s) => seen.push(Float32Array.from(s)),
    });
    expect(seen).toHaveLength(50);
    const checkpoints = new Set(apgdCheckpoints(50));
    let prev: Float32Array = new Float32Array(12).fill(2 * eps);
    seen.forEach((s, k) => {
      s.forEach((v, i) => {
        if (!checkpoints.has(k + 1)) expect(v).toBe(prev[i]);
        else expect([prev[i], prev[i] / 2].map((u) => Math.fround(u))).toContain(v);
      });
      prev = s;
    });
    const [d, lo, hi] = tf.tidy(() => [tf.max(tf.abs(tf.sub(r.xAdv, x))), tf.min(r.xAdv), tf.max(r.xAdv)].map((t) => t.dataSync()[0]));
    expect(d).toBeLessThanOrEqual(eps + 1e-6);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    tf.dispose([x, y, r.xAdv]);
    net.dispose();
  });
});
