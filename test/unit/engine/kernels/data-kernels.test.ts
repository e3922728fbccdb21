// Our wasm Identity/Cast/Concat/SplitV/Sum/Mean against the cpu backend.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../src-main/engine/backends/select';

async function both<T>(f: () => T): Promise<{ cpu: T; wasm: T }> {
  await selectBackend('cpu');
  const cpu = f();
  await selectBackend('wasm');
  return { cpu, wasm: f() };
}

function closeTo(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

describe('wasm data kernels', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it.each([0, 1, 2, 3])('concat and split along axis %i match the cpu backend', async (axis) => {
    const run = () => tf.tidy(() => {
      const parts = [[2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]].map((s, i) => {
        const shape = [...s];
        shape[axis] = i + 1;
        return tf.randomNormal(shape, 0, 1, 'float32', 30 + i);
      });
      const joined = tf.concat(parts, axis);
      const again = tf.split(joined, [1, 2, 3], axis).map((t) => Array.from(t.dataSync()));
      return { joined: Array.from(joined.dataSync()), shape: joined.shape, again };
    });
    const { cpu, wasm } = await both(run);
    expect(wasm.shape).toEqual(cpu.shape);
    closeTo(wasm.joined, cpu.joined, 0);
    wasm.again.forEach((p, i) => closeTo(p, cpu.again[i], 0));
  });

  it('concatenates wide rows, int32 tensors and skips empty parts', async () => {
    const run = () => tf.tidy(() => {
      const wide = tf.concat([tf.randomNormal([3, 70], 0, 1, 'float32', 1), tf.randomNormal([3, 90], 0, 1, 'float32', 2)], 1);
      const ints = tf.concat([tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32'), tf.zeros([2, 0], 'int32'), tf.tensor2d([[5], [6]], undefined, 'int32')], 1);
      return { wide: Array.from(wide.dataSync()), ints: Array.from(ints.dataSync()), dtype: ints.dtype };
    });
    const { cpu, wasm } = await both(run);
    closeTo(wasm.wide, cpu.wide, 0);
    expect(wasm.ints).toEqual([1, 2, 5, 3, 4, 6]);
    expect(wasm.dtype).toBe('int32');
  });

  it.each([
    [[0], false],
    [[0, 1, 2], false],
    [[0, 1], true],
    [[1, 0], false],
    [[1, 2], false],
    [[0, 1, 2, 3], false],
  ] as Array<[number[], boolean]>)('sum and mean over axes %j (keepDims %s) match the cpu backend', async (axes, keepDims) => {
    const run = () => tf.tidy(() => {
      const x = tf.randomNormal([3, 4, 5, 6], 2, 1, 'float32', 7);
      const s = tf.sum(x, axes, keepDims);
      const m = tf.mean(x, axes, keepDims);
      return { s: Array.from(s.dataSync()), m: Array.from(m.dataSync()), shape: s.shape };
    });
    const { cpu, wasm } = await both(run);
    expect(wasm.shape).toEqual(cpu.shape);
    closeTo(wasm.s, cpu.s);
    closeTo(wasm.m, cpu.m);
  });

  it('identity and same-dtype cast share the buffer; other casts convert', async () => {
    await selectBackend('wasm');
    const x = tf.tensor1d([1.5, -2.25, 3]);
    const ids = tf.engine().backend.numDataIds();
    const copy = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1.5, -2.25, 3]);
    const ints = tf.cast(copy, 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([copy, same, ints]);
  });
});
