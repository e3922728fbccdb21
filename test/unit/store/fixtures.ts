// Small, deterministic records for store tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from '../../../src-shared/config';
import type { EpochMetrics } from '../../../src-shared/metrics';
import type { ModelSummary } from '../../../src-shared/engine-messages';
import type { DatasetManifest } from '../../../src-shared/datasets';

export const tempHome = (prefix = 'exitlab-store-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export const config = (extra: TrainConfigInput = {}): TrainConfig =>
  TrainConfigSchema.parse({
    dataset: 'synthetic', epochs: 3, model: { blocks: 3, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2 }, backend: 'cpu', seed: 1, ...extra,
  });

/** Epoch metrics whose values encode (epoch, exit) so misplaced rows are visible. */
export function epochMetrics(epoch: number, exits = 3, salt = 0): EpochMetrics {
  return {
    epoch,
    lr: 0.1 / epoch,
    seconds: 10 + epoch,
    imagesPerSecond: 100 + salt,
    exits: Array.from({ length: exits }, (_, exit) => ({
      exit,
      trainCleanAcc: 0.1 * epoch + 0.01 * exit + salt,
      trainCleanLoss: 2 - 0.1 * epoch,
      trainAdvAcc: 0.05 * epoch + 0.01 * exit,
      trainAdvLoss: 2.2 - 0.1 * epoch,
      fcWeightNorm: 1 + exit,
      lambda: 0.1 + 0.05 * exit,
      valCleanAcc: 0.2 * epoch / 3 + 0.01 * exit,
      valFgsmAcc: 0.1 * epoch / 3 + 0.01 * exit,
      valPgdAcc: 0.05 * epoch / 3 + 0.01 * exit,
    })),
    probe: { fgsmAcc: Array(exits).fill(0.3), pgdAcc: Array(exits).fill(0.2) },
    catastrophicOverfitting: { detected: epoch === 2, exits: epoch === 2 ? [exits - 1] : [], reason: epoch === 2 ? 'probe PGD fell' : '' },
  };
}

export const modelSummary = (exits = 3): ModelSummary => ({
  exits,
  parameters: 1000,
  macs: 3000,
  perExit: Array.from({ length: exits }, (_, exit) => ({ exit, parameters: 300 * (exit + 1), macs: 1000 * (exit + 1) })),
});

export const manifest = (id = 'synthetic'): DatasetManifest => ({
  formatVersion: 1, id, name: 'Synthetic', source: 'synthetic', height: 32, width: 32, channels: 3,
  classes: ['a', 'b', 'c'], splits: { train: { count: 100, sha256: 'x' }, test: { count: 20, sha256: 'y' } },
  mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], flipAugment: true, importedAt: '2026-11-01T00:00:00.000Z', origin: {},
});
