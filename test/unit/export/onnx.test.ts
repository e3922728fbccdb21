// The ONNX exporter against onnxruntime-node: the exported graph, run by ONNX Runtime, gives the
// engine's logits on the same inputs, for the whole network and for a single exit.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { layersModelToOnnx, OnnxExportError } from '../../../src-main/export/onnx';
import { ProtoWriter } from '../../../src-main/export/protobuf';
import { singleExitModel } from '../../../src-main/export/model';
import { tinyNet, useCpu } from '../../helpers/tiny-net';

beforeAll(useCpu);

/** Batch-norm statistics and scales away from their initial 0/1, so a wrong mapping shows. */
function perturbBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const w of model.weights) {
    if (!/\/(gamma|beta|moving_mean|moving_variance)$/.test(w.originalName)) continue;
    const base = w.originalName.endsWith('moving_variance') || w.originalName.endsWith('gamma') ? 1 : 0;
    w.write(tf.tidy(() => tf.add(base, tf.mul(base ? 0.5 : 0.3, tf.randomUniform(w.shape as number[], base ? -0.9 : -1, 1, 'float32', s++)))));
  }
}

async function runOnnx(bytes: Buffer, x: tf.Tensor4D): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) };
    const out = await session.run(feeds);
    return session.outputNames.map((n) => out[n].data as Float32Array);
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('ONNX export', () => {
  it('encodes protobuf varints, negative int64 and packed fields as the wire format says', () => {
    expect([...new ProtoWriter().int(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
    expect([...new ProtoWriter().int(2, -1).finish()]).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect([...new ProtoWriter().packedInts(4, [3, 270]).finish()]).toEqual([0x22, 0x03, 0x03, 0x8e, 0x02]);
    expect([...new ProtoWriter().string(2, 'hi').finish()]).toEqual([0x12, 0x02, 0x68, 0x69]);
  });

  it('runs in onnxruntime-node with the same logits as the engine, for every exit', async () => {
    const net = tinyNet(3, { scales: 3, blocks: 3, step: 2 });
    perturbBatchNorm(net.layersModel, 5);
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const expected = (net.layersModel.predict(x) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const names = expected.map((_, i) => `logits_exit${i + 1}`);
    const got = await runOnnx(layersModelToOnnx(net.layersModel, { outputNames: names }), x);
    expect(got).toHaveLength(net.exitCount);
    got.forEach((g, i) => expect(maxAbsDiff(g, expected[i]), `exit ${i + 1}`).toBeLessThan(1e-4));
    // Different inputs give different outputs (the comparison is not between constants).
    expect(maxAbsDiff(expected[0].subarray(0, 3), expected[0].subarray(3, 6))).toBeGreaterThan(1e-3);
    net.layersModel.dispose();
  });

  it('exports a single exit as a graph holding only that exit', async () => {
    const net = tinyNet(4);
    perturbBatchNorm(net.layersModel, 6);
    const x = tf.randomUniform([2, 32, 32, 3], -2, 2, 'float32', 3) as tf.Tensor4D;
    const all = (net.layersModel.predict(x) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const first = singleExitModel(net.layersModel, 0);
    const full = layersModelToOnnx(net.layersModel, { outputNames: all.map((_, i) => `e${i}`) });
    const only = layersModelToOnnx(first, { outputNames: ['logits_exit1'] });
    expect(only.byteLength).toBeLessThan(full.byteLength);
    const [got] = await runOnnx(only, x);
    expect(maxAbsDiff(got, all[0])).toBeLessThan(1e-4);
    net.layersModel.dispose();
  });

  it('names the layer it cannot translate', () => {
    const input = tf.input({ shape: [4, 4, 1] });
    const y = tf.layers.upSampling2d({ name: 'up' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    expect(() => layersModelToOnnx(model, { outputNames: ['y'] })).toThrow(OnnxExportError);
    expect(() => layersModelToOnnx(model, { outputNames: ['y'] })).toThrow(/layer up \(UpSampling2D\)/);
  });
});
