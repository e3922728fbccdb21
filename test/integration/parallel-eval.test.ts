// Evaluation over worker threads (`exitlab eval --workers N`, the app's eval.run) on a tiny run
// trained on the synthetic set: the report of 2 workers equals 1 worker's number for number and
// image for image (3 batches, so the workers get 2 and 1), in this process and in the app's child
// process; progress per attack; a bad --workers is refused before any work; a dead worker ends
// the evaluation with an error instead of a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema } from '../../src-shared/config';
import { EvaluationReportSchema, type EvaluationReport } from '../../src-shared/evaluation';
import { selectBackend } from '../../src-main/engine/backends/select';
import { computeEvaluation, prepareEvaluation, type EvalProgress } from '../../src-main/runs/evaluate-run';
import { computeEvaluationInChild } from '../../src-main/runs/eval-child';
import { runNetwork, toImages } from '../../src-main/runs/eval-setup';
import { EvalPool } from '../../src-main/runs/eval-workers';
import { NotEnoughMemoryError } from '../../src-main/engine/parallel/memory';
import { RunService } from '../../src-main/runs/service';
import { openStore } from '../../src-main/store/run-store';
import { locateDataset } from '../../src-main/datasets/catalog';
import { readSplit } from '../../src-main/datasets/store';
import { runCli } from '../helpers/cli';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-peval-'));
let runId = '';

/**
 * 24 images in batches of 8: three batches, so two workers get two and one. Square with a handful
 * of queries fools images by chance, so its outcome shows whether each batch kept its seed; the
 * ε sweep runs PGD-20.
 */
const REQUEST = {
  attacks: ['square', 'clean', 'fgsm', 'aa'] as const, samples: 24, batchSize: 8, eps: 8, budgets: [0.5, 1], calibrationSamples: 40,
  sweep: [16], settings: { aaSteps: 4, aaTargetClasses: 2, aaSquareQueries: 5 }, backend: 'wasm' as const,
};

const prepared = (workers: number, extra: object = {}) => {
  const store = openStore(home);
  try {
    return prepareEvaluation(home, store, { runId, ...REQUEST, attacks: [...REQUEST.attacks], workers, ...extra });
  } finally {
    store.close();
  }
};

/** Everything but the clocks and the worker count. */
const results = (r: EvaluationReport) => ({ ...r, createdAt: '', seconds: 0, workers: 0, attacks: r.attacks.map((a) => ({ ...a, seconds: 0 })) });

beforeAll(async () => {
  const service = new RunService({ home });
  const run = service.start(TrainConfigSchema.parse({
    dataset: 'synthetic', method: 'standard', eps: 0, model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
    batchSize: 32, trainSamples: 1024, evalSamples: 16, epochs: 2, maxBatchesPerEpoch: 32, backend: 'wasm', workers: 1, seed: 7,
  }));
  expect((await run.done).final).toMatchObject({ type: 'finished' });
  runId = run.runId;
  await service.close();
}, 120_000);

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('evaluation over worker threads', () => {
  let single: EvaluationReport;

  it('2 workers write the report of 1, number for number and image for image, with progress per attack', async () => {
    single = await computeEvaluation(home, prepared(1));
    const progress: EvalProgress[] = [];
    const split = await computeEvaluation(home, prepared(2), (p) => progress.push(p));
    expect([single.workers, split.workers]).toEqual([1, 2]);
    expect(results(split)).toEqual(results(single));
    // Not a vacuous comparison: some images resist, and with other seeds Square fools others.
    const square = (r: EvaluationReport) => r.attacks.find((a) => a.attack === 'square')!.robustImages!.exits.join(' ');
    expect(square(single)).toMatch(/1/);
    const reseeded = [];
    for (const seed of [1, 2]) reseeded.push(square(await computeEvaluation(home, prepared(1, { attacks: ['square'], sweep: [], budgets: [], seed }))));
    expect(reseeded.some((s) => s !== square(single))).toBe(true);
    expect(single.sweep!.points.map((p) => p.eps)).toEqual([16]);
    // Per attack: its start and each of its three batches; the fraction never goes back.
    for (const attack of REQUEST.attacks) {
      expect(progress.filter((p) => p.message.startsWith(`${attack}: `)).map((p) => p.message.split(' ')[1])).toEqual(['0/3', '1/3', '2/3', '3/3']);
    }
    const fractions = progress.map((p) => p.fraction!);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
  }, 120_000);

  it("the app's child process evaluates on worker threads too, with the same result", async () => {
    // The first two attacks of the list: the same attack indices, so the same seeds.
    const report = EvaluationReportSchema.parse(await computeEvaluationInChild(home, prepared(2, { attacks: ['square', 'clean'], sweep: [] })).done);
    expect(report.workers).toBe(2);
    expect(results(report).attacks).toEqual(results(single).attacks.slice(0, 2));
  }, 60_000);

  it('refuses a bad --workers with one error line before any work, writing nothing', async () => {
    const reports = () => (fs.existsSync(path.join(home, 'runs', runId, 'evaluations'))
      ? fs.readdirSync(path.join(home, 'runs', runId, 'evaluations')).length
      : 0);
    const before = reports();
    const base = ['eval', '--run', runId, '--attacks', 'clean', '--samples', '24', '--batch-size', '8'];
    for (const n of ['0', '-1', 'two']) {
      const r = await runCli(home, [...base, `--workers=${n}`]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^exitlab eval: error: --workers must be a whole number ≥ 1/);
    }
    const tooMany = await runCli(home, [...base, '--workers', '4']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.err).toBe('exitlab eval: error: --workers 4 is more than the 3 batches of 24 images (--batch-size 8): ' +
      'each worker attacks whole batches; use fewer workers or a smaller --batch-size');
    expect(tooMany.progress).toBe('');
    const huge = await runCli(home, [...base, '--workers', '100000']);
    expect(huge.code).toBe(2);
    expect(huge.err.split('\n')).toHaveLength(1);
    expect(reports()).toBe(before);
  }, 30_000);

  it('refuses workers that do not fit in memory before the first batch, naming the memory needed', async () => {
    await selectBackend('wasm');
    const p = prepared(2, { attacks: ['clean'] });
    const { net, checkpoint } = runNetwork(home, p);
    net.dispose();
    const { dir, manifest } = locateDataset(home, p.dataset.id);
    const test = readSplit(dir, manifest, 'test');
    const images = toImages(test.images, test.labels, 0, 16);
    const refused = await EvalPool.start({ home, prepared: p, workers: 2, backend: 'wasm', images, checkpoint, availableMemory: 1000 }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(NotEnoughMemoryError);
    expect((refused as Error).message).toMatch(/^not enough memory for 2 evaluation workers: they need about \d+\.\d GiB \(2 × \d+\.\d GiB\) and 0\.0 GiB is available/);
    // With the memory there, the same pool starts (its workers were closed after the refusal).
    const pool = await EvalPool.start({ home, prepared: p, workers: 2, backend: 'wasm', images, checkpoint, availableMemory: 2 ** 40 });
    await pool.dispose();
  }, 60_000);

  it('a worker that dies mid-evaluation ends it with a clear error instead of hanging', async () => {
    await selectBackend('wasm');
    // Standard-sized AutoAttack: long enough that the worker is killed in the middle of a batch.
    const p = prepared(2, { attacks: ['aa'], settings: {} });
    const { net, checkpoint } = runNetwork(home, p);
    net.dispose();
    const { dir, manifest } = locateDataset(home, p.dataset.id);
    const test = readSplit(dir, manifest, 'test');
    const images = toImages(test.images, test.labels, 0, 16);
    const pool = await EvalPool.start({ home, prepared: p, workers: 2, backend: 'wasm', images, checkpoint });
    try {
      const tasks = [0, 8].map((start) => ({ attack: 'aa' as const, eps: 8 / 255, thresholds: [], start, end: start + 8, seed: 1 }));
      const run = pool.run(tasks, { started: () => {}, done: () => {} });
      setTimeout(() => pool.terminateWorker(1), 300);
      await expect(run).rejects.toThrow(/^evaluation worker 2 of 2 died \(exit code 1\)/);
      await expect(pool.run(tasks, { started: () => {}, done: () => {} })).rejects.toThrow(/died/);
    } finally {
      await pool.dispose();
    }
  }, 60_000);
});
