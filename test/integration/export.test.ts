// Model export from a stored run: the TensorFlow.js files load with tf.loadLayersModel and the ONNX
// file runs in onnxruntime-node, both giving the engine's logits on the same images (the engine's
// forward normalises inside; the exports take normalised images, as metadata.json says).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { ModelConfigSchema } from '../../src-shared/config';
import { ExportMetadataSchema } from '../../src-shared/runs';
import { buildMsdnetLayers } from '../../src-main/engine/model/msdnet';
import { modelWeightTensors, snapshot, writeCheckpoint } from '../../src-main/engine/train/checkpoint';
import { exportRun, ExportError, METADATA_FILE } from '../../src-main/export/run-export';
import { layersModelToOnnx } from '../../src-main/export/onnx';
import { fileLoadHandler } from '../../src-main/export/tfjs';
import { openStore, UnknownRunError, type RunStore } from '../../src-main/store/run-store';
import type { MultiExitNet } from '../../src-main/engine/model/multi-exit';
import { TINY_MODEL, tinyNet, useCpu } from '../helpers/tiny-net';
import { config, epochMetrics, manifest, tempHome } from '../unit/store/fixtures';

const MEAN = [0.5, 0.5, 0.5];
const STD = [0.25, 0.25, 0.25];
let home: string;
let store: RunStore;
let net: MultiExitNet;
let x: tf.Tensor4D;

/** Moves batch-norm statistics away from 0/1 so that a wrong mapping cannot go unnoticed. */
function perturb(model: tf.LayersModel): void {
  let s = 1;
  for (const w of model.weights) {
    if (!/\/(gamma|beta|moving_mean|moving_variance)$/.test(w.originalName)) continue;
    const one = /(gamma|moving_variance)$/.test(w.originalName) ? 1 : 0;
    w.write(tf.tidy(() => tf.add(one, tf.randomUniform(w.shape as number[], -0.4, 0.4, 'float32', s++))));
  }
}

const normalise = (images: tf.Tensor4D) => tf.tidy(() => tf.div(tf.sub(images, MEAN), STD)) as tf.Tensor4D;

async function onnxOutputs(file: string, input: tf.Tensor4D): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.dataSync() as Float32Array, input.shape) });
    return Object.fromEntries(session.outputNames.map((n) => [n, out[n].data as Float32Array]));
  } finally {
    await session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  await useCpu();
  home = tempHome('exitlab-export-');
  store = openStore(home);
  // A "trained" run: the tiny network with perturbed statistics, saved as the trainer saves it.
  net = tinyNet(3);
  perturb(net.layersModel);
  const cfg = config({ model: TINY_MODEL, seed: 3, epochs: 2, eps: 8 });
  store.upsertDataset(manifest());
  store.createRun({ id: 'trained', name: 'tiny', config: cfg, codeVersion: 'test' });
  store.recordStarted('trained', { backendUsed: 'cpu', modelSummary: net.summary, startEpoch: 1, ownerPid: process.pid });
  store.recordEpoch('trained', epochMetrics(1, net.exitCount));
  store.recordEpoch('trained', epochMetrics(2, net.exitCount));
  store.finishRun('trained', { status: 'completed', seconds: 5, epochsDone: 2 });
  store.addEvaluation('trained', {
    attack: 'pgd', eps: 8, steps: 20, samples: 16, checkpoint: 'last', perExitAcc: [0.2, 0.3, 0.4],
    earlyExit: { thresholds: [0.9, 0.8, 0], accuracy: 0.33, averageMacs: null, exitShare: null },
  });
  const weights = await snapshot(modelWeightTensors(net.layersModel));
  writeCheckpoint(path.join(home, 'runs', 'trained', 'last.ckpt'), { epoch: 2, batchesDone: 0, state: {}, weights, optimizer: [] });
  x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 17) as tf.Tensor4D;
});

afterAll(() => store.close());

describe('model export', () => {
  it('writes TensorFlow.js layers files that tf.loadLayersModel reads back to the engine\'s logits', async () => {
    const out = path.join(home, 'out-tfjs');
    const result = await exportRun(home, store, { runId: 'trained', format: 'tfjs', out });
    expect(result.files.sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const loaded = await tf.loadLayersModel(fileLoadHandler(path.join(out, 'model.json')));
    const got = loaded.predict(normalise(x)) as tf.Tensor[];
    const want = net.forward(x, false);
    expect(got).toHaveLength(3);
    got.forEach((g, i) => expect(maxDiff(g.dataSync(), want[i].dataSync())).toBeLessThan(1e-5));
    expect(store.getRun('trained').artefacts.map((a) => [a.kind, a.path])).toContainEqual(['export-tfjs', out]);
    loaded.dispose();
  });

  it('writes an ONNX file that onnxruntime-node runs to the engine\'s logits, whole and per exit', async () => {
    const want = net.forward(x, false).map((t) => t.dataSync());
    const whole = await exportRun(home, store, { runId: 'trained', format: 'onnx', out: path.join(home, 'out-onnx') });
    const all = await onnxOutputs(path.join(whole.out, 'model.onnx'), normalise(x));
    expect(Object.keys(all)).toEqual(['logits_exit1', 'logits_exit2', 'logits_exit3']);
    want.forEach((w, i) => expect(maxDiff(all[`logits_exit${i + 1}`], w), `exit ${i + 1}`).toBeLessThan(1e-4));

    const second = await exportRun(home, store, { runId: 'trained', format: 'onnx', exit: 2, out: path.join(home, 'out-onnx-exit2') });
    const only = await onnxOutputs(path.join(second.out, 'model.onnx'), normalise(x));
    expect(Object.keys(only)).toEqual(['logits_exit2']);
    expect(maxDiff(only.logits_exit2, want[1])).toBeLessThan(1e-4);
    expect(fs.statSync(path.join(second.out, 'model.onnx')).size).toBeLessThan(fs.statSync(path.join(whole.out, 'model.onnx')).size);
  });

  it('describes the export in metadata.json: data set, normalisation, classes, exits and FLOPs, thresholds, robustness, config', async () => {
    const result = await exportRun(home, store, { runId: 'trained', format: 'tfjs', exit: 1, out: path.join(home, 'out-meta') });
    const meta = ExportMetadataSchema.parse(JSON.parse(fs.readFileSync(path.join(result.out, METADATA_FILE), 'utf8')));
    expect(meta.dataset).toMatchObject({ id: 'synthetic', classes: ['a', 'b', 'c'], mean: MEAN, std: STD });
    expect(meta.exportedExit).toBe(1);
    expect(meta.exits.map((e) => [e.exit, e.flops, e.exported])).toEqual(net.summary.perExit.map((p) => [p.exit + 1, 2 * p.macs, p.exit === 0]));
    expect(meta.checkpoint).toEqual({ kind: 'last', epoch: 2, batchesDone: 0 });
    expect(meta.earlyExit).toMatchObject({ thresholds: [0.9, 0.8, 0], accuracy: 0.33 });
    expect(meta.robustness.epoch?.perExit[2]).toEqual({
      exit: 3, clean: epochMetrics(2).exits[2].valCleanAcc, fgsm: epochMetrics(2).exits[2].valFgsmAcc, pgd10: epochMetrics(2).exits[2].valPgdAcc,
    });
    expect(meta.robustness.evaluations).toHaveLength(1);
    expect(meta.run).toMatchObject({ id: 'trained', name: 'tiny', method: 'fgsm-me', seed: 3 });
    expect(meta.run.config.model).toEqual(TINY_MODEL);
    expect(meta.model.outputs).toHaveLength(1);
    expect(meta.model.input.preprocessing).toMatch(/mean = \[0.5, 0.5, 0.5\]/);
  });

  it('refuses bad requests with a clear error and leaves nothing behind', async () => {
    const before = fs.readdirSync(home).sort();
    const artefacts = store.getRun('trained').artefacts.length;
    await expect(exportRun(home, store, { runId: 'nope', format: 'onnx', out: path.join(home, 'x1') })).rejects.toThrow(UnknownRunError);
    await expect(exportRun(home, store, { runId: 'trained', format: 'onnx', out: path.join(home, 'out-onnx') })).rejects.toThrow(/already exists/);
    await expect(exportRun(home, store, { runId: 'trained', format: 'onnx', out: path.join(home, 'missing', 'x') })).rejects.toThrow(/does not exist/);
    await expect(exportRun(home, store, { runId: 'trained', format: 'onnx', exit: 9, out: path.join(home, 'x2') })).rejects.toThrow(
      /exit 9 does not exist: the model has exits 1 to 3/,
    );
    await expect(exportRun(home, store, { runId: 'trained', format: 'onnx', checkpoint: 'best', out: path.join(home, 'x3') })).rejects.toThrow(ExportError);
    fs.writeFileSync(path.join(home, 'a-file'), '');
    await expect(exportRun(home, store, { runId: 'trained', format: 'tfjs', out: path.join(home, 'a-file', 'm') })).rejects.toThrow(/is not a folder/);
    fs.rmSync(path.join(home, 'a-file'));
    // Root may write anywhere, so only an ordinary user can see a read-only folder refused.
    if (process.getuid?.() !== 0) {
      const locked = path.join(home, 'locked');
      fs.mkdirSync(locked, { mode: 0o500 });
      await expect(exportRun(home, store, { runId: 'trained', format: 'tfjs', out: path.join(locked, 'm') })).rejects.toThrow(/not writable/);
      fs.rmdirSync(locked);
    }
    expect(fs.readdirSync(home).sort()).toEqual(before);
    expect(store.getRun('trained').artefacts).toHaveLength(artefacts);
  });

  it('exports the reference CIFAR MSDNet to ONNX exactly', { timeout: 120_000 }, async () => {
    const { model } = buildMsdnetLayers(ModelConfigSchema.parse({}), 10, 1);
    perturb(model);
    const input = normalise(tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D);
    const want = (model.predict(input) as tf.Tensor[]).map((t) => t.dataSync());
    const file = path.join(home, 'reference.onnx');
    fs.writeFileSync(file, layersModelToOnnx(model, { outputNames: want.map((_, i) => `logits_exit${i + 1}`) }));
    const got = await onnxOutputs(file, input);
    expect(Object.keys(got)).toHaveLength(7);
    want.forEach((w, i) => expect(maxDiff(got[`logits_exit${i + 1}`], w), `exit ${i + 1}`).toBeLessThan(1e-4));
    model.dispose();
  });
});
