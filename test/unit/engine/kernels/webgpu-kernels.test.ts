// Which of our webgpu kernels replace tfjs's: the direct convolutions only on a software adapter
// (they were measured only there), the chunked filter gradient and the grouped AddN on every adapter. No device needed:
// loading the package registers its kernels.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { registerWebGpuKernels } from '../../../../src-main/engine/kernels';
import { filterGradChunks } from '../../../../src-main/engine/kernels/webgpu-conv2d-backprop-filter';

describe('webgpu kernel registration', () => {
  it('a hardware adapter keeps the built-in convolutions and gets the chunked filter gradient and the grouped AddN', () => {
    const builtin = (name: string) => tf.getKernel(name, 'webgpu')!.kernelFunc;
    const conv = builtin(tf.Conv2D);
    const input = builtin(tf.Conv2DBackpropInput);
    const filter = builtin(tf.Conv2DBackpropFilter);
    const addN = builtin(tf.AddN);
    registerWebGpuKernels(false);
    expect(builtin(tf.AddN)).not.toBe(addN);
    expect(builtin(tf.Conv2D)).toBe(conv);
    expect(builtin(tf.Conv2DBackpropInput)).toBe(input);
    expect(builtin(tf.Conv2DBackpropFilter)).not.toBe(filter);
    registerWebGpuKernels(true);
    expect(builtin(tf.Conv2D)).not.toBe(conv);
    expect(builtin(tf.Conv2DBackpropInput)).not.toBe(input);
  });

  it('splits the filter gradient sum into chunks that cover every row once', () => {
    for (const [rows, size] of [[7, 9216], [256, 576], [3, 100_000], [1, 1], [500, 1]]) {
      const { chunks, rowsPerChunk } = filterGradChunks(rows, size);
      expect(chunks * rowsPerChunk).toBeGreaterThanOrEqual(rows);
      expect((chunks - 1) * rowsPerChunk).toBeLessThan(rows);
      expect(chunks).toBeLessThanOrEqual(rows);
    }
    expect(filterGradChunks(3, 100_000)).toEqual({ chunks: 1, rowsPerChunk: 3 });
    expect(filterGradChunks(256, 576)).toEqual({ chunks: 52, rowsPerChunk: 5 });
  });
});
