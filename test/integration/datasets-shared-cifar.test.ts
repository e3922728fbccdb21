// The real CIFAR-10 subset in ../shared/data (see its README): import, the published checks, and a
// tiny training run on the imported set. Skipped when the folder is absent.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TrainConfigSchema } from '../../src-shared/config';
import { openDataset } from '../../src-main/datasets/catalog';
import { importDataset } from '../../src-main/datasets/importers';
import { classCounts } from '../../src-main/datasets/preview';
import { RunService } from '../../src-main/runs/service';

const repoRoot = path.resolve(__dirname, '..', '..');
const shared = path.resolve(repoRoot, '..', 'shared', 'data');
const trainBin = path.join(shared, 'cifar10-train.bin');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-shared-cifar-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe.skipIf(!fs.existsSync(trainBin))('CIFAR-10 subset from ../shared/data', () => {
  it('imports cifar10-train.bin with its sibling test file; first labels, pixel mean and class counts match the README', async () => {
    const m = await importDataset(home, trainBin);
    expect(m).toMatchObject({ id: 'cifar10-train', source: 'cifar10-bin', splits: { train: { count: 5085 }, test: { count: 517 } } });
    const d = openDataset(home, 'cifar10-train');
    expect([...d.train.labels.subarray(0, 10)]).toEqual([6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    let sum = 0;
    for (const v of d.train.images) sum += v;
    expect(sum / d.train.images.length).toBeCloseTo(121.25, 2);
    for (const c of classCounts(d.train.labels, 10)) {
      expect(c).toBeGreaterThanOrEqual(475);
      expect(c).toBeLessThanOrEqual(537);
    }
    // Stored channel means agree with the overall pixel mean.
    expect((m.mean[0] + m.mean[1] + m.mean[2]) / 3).toBeCloseTo(121.25 / 255, 4);
  });

  it('trains on the imported set (tiny model, one short epoch)', async () => {
    const config = TrainConfigSchema.parse({
      dataset: 'cifar10-train',
      model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
      batchSize: 16,
      trainSamples: 64,
      evalSamples: 16,
      epochs: 1,
      backend: 'wasm',
      seed: 1,
    });
    const service = new RunService({ home });
    let outcome;
    try {
      outcome = await service.start(config, { onEvent: () => {} }).done;
    } finally {
      await service.close();
    }
    expect(outcome.final).toMatchObject({ type: 'finished', status: 'completed', epochs: 1 });
  });
});
