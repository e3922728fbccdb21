// The trainer with two data-parallel workers on a tiny MSDNet: a run stopped after its first epoch
// and resumed ends with the same weights, bit for bit, as the uninterrupted run; resuming with
// another number of workers is allowed and says what differs; bad --workers values are refused
// before any work starts.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfig } from '../../src-shared/config';
import type { DatasetManifest } from '../../src-shared/datasets';
import type { EngineEvent } from '../../src-shared/engine-messages';
import { generateSynthetic } from '../../src-main/datasets/synthetic';
import { runTraining } from '../../src-main/engine/train/trainer';
import { RunControl } from '../../src-main/engine/train/run-control';
import { readCheckpoint } from '../../src-main/engine/train/checkpoint';
import { selectBackend } from '../../src-main/engine/backends/select';
import { configFromArgs } from '../../src-main/cli/commands/train';
import { UsageError } from '../../src-main/cli/errors';
import { autoWorkers, withResolvedWorkers } from '../../src-main/engine/parallel/shards';

const data = (() => {
  const { train, test } = generateSynthetic({ trainCount: 48, testCount: 16 });
  // A partial manifest: training reads only the classes, the normalisation and the flip flag.
  const manifest = {
    classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], flipAugment: true,
  } as unknown as DatasetManifest;
  return { manifest, train, test };
})();
const config = (workers: number) => TrainConfigSchema.parse({
  model: { blocks: 1, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16, trainSamples: 48, evalSamples: 16, epochs: 2, maxBatchesPerEpoch: 2, backend: 'wasm', seed: 3, workers,
});

async function train(cfg: TrainConfig, runDir: string, opts: { resume?: boolean; stopAfterEpoch?: number } = {}) {
  await selectBackend('wasm');
  const control = new RunControl();
  const events: EngineEvent[] = [];
  const emit = (e: EngineEvent) => {
    events.push(e);
    if (e.type === 'checkpoint' && e.epoch === opts.stopAfterEpoch) control.stop();
  };
  await runTraining({ runId: 'r', config: cfg, runDir, resume: opts.resume ?? false, data, emit, control, backend: { backend: 'wasm', skipped: [] } });
  return events;
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-parallel-'));
const weightBits = (runDir: string) => readCheckpoint(
  path.join(runDir, 'last.ckpt'),
).weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).toString('base64'));

describe('data-parallel training run', () => {
  it('stops after an epoch and resumes with two workers to the bits of the uninterrupted run', async () => {
    const straight = tempDir();
    const full = await train(config(2), straight);
    expect(full.find((e) => e.type === 'finished')).toMatchObject({ status: 'completed', epochs: 2 });
    expect(full.some((e) => e.type === 'log' && /data-parallel training on 2 worker threads/.test(e.message))).toBe(true);

    const interrupted = tempDir();
    const first = await train(config(2), interrupted, { stopAfterEpoch: 1 });
    expect(first.find((e) => e.type === 'finished')).toMatchObject({ status: 'stopped', epochs: 1 });
    const other = tempDir();
    fs.cpSync(interrupted, other, { recursive: true });

    await train(config(2), interrupted, { resume: true });
    expect(weightBits(interrupted)).toEqual(weightBits(straight));
    const epochOf = (events: EngineEvent[]) => events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.metrics.exits);
    expect(epochOf(await train(config(2), tempDir())).at(-1)).toEqual(epochOf(full).at(-1));

    // Another worker count on resume: allowed, and the log says what differs.
    const changed = await train(config(1), other, { resume: true });
    expect(changed.find((e) => e.type === 'finished')).toMatchObject({ status: 'completed', epochs: 2 });
    expect(changed.some((e) => e.type === 'log' && /resuming with 1 worker\(s\) instead of 2: .*batch-norm statistics/.test(e.message))).toBe(true);
  }, 240_000);
});

describe('--workers', () => {
  const refused = (argv: string[]) => {
    try {
      configFromArgs(argv);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      const message = (err as Error).message;
      expect(message).not.toContain('\n');
      return message;
    }
    throw new Error(`${argv.join(' ')} was accepted`);
  };

  it('refuses 0, negative, fractional and more workers than images per batch, in one line', () => {
    expect(refused(['--workers', '0'])).toMatch(/^--workers:/);
    expect(refused(['--workers=-2'])).toMatch(/^--workers:/);
    expect(refused(['--workers', '-2'])).toMatch(/'--workers' argument is ambiguous/);
    expect(refused(['--workers', '1.5'])).toMatch(/^--workers:/);
    expect(refused(['--workers', 'two'])).toMatch(/--workers must be a number/);
    expect(refused(['--workers', '17', '--batch-size', '16'])).toMatch(/--workers 17 is more than the 16 images of a batch/);
    expect(configFromArgs(['--workers', '4', '--batch-size', '16']).config.workers).toBe(4);
  });

  it('by default takes one worker per core, keeping at least 8 images per shard, resolved when the run is created', () => {
    expect(autoWorkers(8, 16)).toBe(8);
    expect(autoWorkers(8, 2)).toBe(2);
    expect(autoWorkers(0.5, 16)).toBe(1);
    const cfg = configFromArgs([]).config;
    expect(cfg.workers).toBeNull();
    expect(withResolvedWorkers(cfg, 4).workers).toBe(4);
    expect(withResolvedWorkers(cfg, 16).workers).toBe(8);
    expect(withResolvedWorkers({ ...cfg, batchSize: 8 }, 16).workers).toBe(1);
    expect(withResolvedWorkers({ ...cfg, batchSize: 4 }, 16).workers).toBe(1);
    expect(withResolvedWorkers({ ...cfg, workers: 3 }, 4).workers).toBe(3);
  });
});
