// Our wasm Transpose against the cpu backend, and the axis merging it relies on.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src-main/engine/backends/select';
import { coalescePermutation, planTranspose } from '../../../../src-main/engine/kernels/transpose';

async function both<T>(f: () => T): Promise<{ cpu: T; wasm: T }> {
  await selectBackend('cpu');
  const cpu = f();
  await selectBackend('wasm');
  return { cpu, wasm: f() };
}

describe('wasm Transpose', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('merges axes that stay neighbours and drops size-1 axes', () => {
    expect(coalescePermutation([64, 32, 32, 6], [3, 1, 2, 0])).toEqual({ shape: [64, 1024, 6], perm: [2, 1, 0] });
    expect(coalescePermutation([64, 8, 8, 12], [1, 2, 0, 3])).toEqual({ shape: [64, 64, 12], perm: [1, 0, 2] });
    expect(coalescePermutation([2, 1, 3], [2, 1, 0])).toEqual({ shape: [2, 3], perm: [1, 0] });
    expect(coalescePermutation([4, 5, 6], [0, 1, 2])).toEqual({ shape: [120], perm: [0] });
  });

  // Tiled: sides around the 32-element tile (33, 35, 40, 70), the filter gradient's perms, outer
  // axes around the tiles. Left to the built-in: contiguous rows, a side under 8, nothing to move.
  const TILED: Array<[number[], number[]]> = [
    [[70, 33], [1, 0]],
    [[9, 5, 7, 40], [3, 1, 2, 0]],
    [[2, 10, 40, 9], [2, 0, 3, 1]],
    [[3, 12, 5, 16, 9], [4, 0, 2, 1, 3]],
    [[1, 9, 1, 40], [3, 2, 1, 0]],
  ];
  const BUILTIN: Array<[number[], number[]]> = [
    [[3, 7, 5, 4], [1, 2, 0, 3]],
    [[3, 33, 35, 5], [3, 1, 2, 0]],
    [[4, 6], [0, 1]],
    [[5, 1, 1, 1], [1, 2, 3, 0]],
  ];

  it('tiles where it is faster and leaves the rest to the built-in', () => {
    for (const [shape, perm] of TILED) expect(planTranspose(shape, perm)).not.toBeNull();
    for (const [shape, perm] of BUILTIN) expect(planTranspose(shape, perm)).toBeNull();
  });

  it.each([...TILED, ...BUILTIN])('shape %j, perm %j matches the cpu backend exactly', async (shape, perm) => {
    const run = () => tf.tidy(() => {
      const x = tf.range(0, tf.util.sizeFromShape(shape), 1, 'float32').reshape(shape);
      const t = tf.transpose(x, perm);
      return { values: Array.from(t.dataSync()), shape: t.shape };
    });
    const { cpu, wasm } = await both(run);
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.values).toEqual(cpu.values);
  });

  it('keeps int32 and bool dtypes, and empty tensors', async () => {
    const run = () => tf.tidy(() => {
      const ints = tf.transpose(tf.range(0, 9 * 10, 1, 'int32').reshape([9, 10]));
      const bools = tf.transpose(tf.greater(tf.randomNormal([12, 9], 0, 1, 'float32', 4), 0));
      const empty = tf.transpose(tf.zeros([0, 30]));
      return { ints: Array.from(ints.dataSync()), intDtype: ints.dtype, bools: Array.from(bools.dataSync()), boolDtype: bools.dtype, empty: empty.shape };
    });
    const { cpu, wasm } = await both(run);
    expect(wasm).toEqual(cpu);
  });
});
