import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDatasets, openDataset, removeDataset } from '../../../src-main/datasets/catalog';
import { datasetDir, writeDataset } from '../../../src-main/datasets/store';
import { SYNTHETIC_CLASSES } from '../../../src-main/datasets/synthetic';
import type { Split } from '../../../src-main/datasets/types';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-catalog-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

function tinySplit(count: number, classes: number, fill: (i: number) => number): Split {
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images.fill(fill(i), i * 3072, (i + 1) * 3072);
    labels[i] = i % classes;
  }
  return { images, labels, count };
}

const draft = { id: 'tiny', name: 'Tiny', source: 'cifar10-bin' as const, classes: ['a', 'b'], flipAugment: true, origin: {} };

describe('data set catalog', () => {
  it('draws the synthetic set on first use, stores it, and loads the same data afterwards', () => {
    const first = openDataset(home, 'synthetic');
    expect(first.manifest.classes).toEqual([...SYNTHETIC_CLASSES]);
    expect(first.train.count).toBe(5000);
    expect(first.test.count).toBe(1000);
    expect(first.manifest.splits.train.count).toBe(5000);
    const dir = datasetDir(home, 'synthetic');
    expect(fs.existsSync(path.join(dir, 'manifest.json'))).toBe(true);
    const mtime = fs.statSync(path.join(dir, 'train.images.u8')).mtimeMs;
    const again = openDataset(home, 'synthetic');
    expect(fs.statSync(path.join(dir, 'train.images.u8')).mtimeMs).toBe(mtime);
    // (Buffer comparison: a deep equality on 15 MB is slow.)
    expect(Buffer.from(again.train.images).equals(Buffer.from(first.train.images))).toBe(true);
    for (const k of [0, 1, 2]) {
      expect(first.manifest.mean[k]).toBeGreaterThan(0.2);
      expect(first.manifest.mean[k]).toBeLessThan(0.8);
      expect(first.manifest.std[k]).toBeGreaterThan(0.05);
    }
    // Nothing is left in the temporary folder.
    expect(fs.readdirSync(path.join(home, 'tmp'))).toEqual([]);

    // A copy drawn by an older generator version is drawn again.
    const manifestFile = path.join(dir, 'manifest.json');
    const stored = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    fs.writeFileSync(manifestFile, JSON.stringify({ ...stored, origin: { ...stored.origin, version: 0 } }));
    const redrawn = openDataset(home, 'synthetic');
    expect(redrawn.manifest.origin.version).toBe(stored.origin.version);
    expect(Buffer.from(redrawn.test.images).equals(Buffer.from(first.test.images))).toBe(true);
  });

  it('writes a data set with mean / std of its train split and reads it back byte for byte', () => {
    const train = tinySplit(4, 2, (i) => (i % 2 === 0 ? 0 : 255));
    const test = tinySplit(2, 2, () => 9);
    const m = writeDataset(home, draft, { train, test });
    expect(m.mean).toEqual([0.5, 0.5, 0.5]);
    expect(m.std).toEqual([0.5, 0.5, 0.5]);
    const opened = openDataset(home, 'tiny');
    expect(opened.train.images).toEqual(train.images);
    expect(opened.test.labels).toEqual(test.labels);
    expect(opened.manifest.importedAt).toBe(m.importedAt);
  });

  it('refuses a duplicate id and labels out of range, changing nothing', () => {
    writeDataset(home, draft, { train: tinySplit(2, 2, () => 1), test: tinySplit(1, 2, () => 1) });
    const before = fs.readFileSync(path.join(datasetDir(home, 'tiny'), 'manifest.json'), 'utf8');
    expect(() => writeDataset(home, draft, { train: tinySplit(2, 2, () => 3), test: tinySplit(1, 2, () => 3) })).toThrow(/'tiny' already exists/);
    expect(fs.readFileSync(path.join(datasetDir(home, 'tiny'), 'manifest.json'), 'utf8')).toBe(before);
    expect(() => writeDataset(home, { ...draft, id: 'bad' }, { train: tinySplit(3, 3, () => 1), test: tinySplit(1, 2, () => 1) })).toThrow(
      /label 2 of image 2 is out of range \(0–1\)/,
    );
    expect(fs.existsSync(datasetDir(home, 'bad'))).toBe(false);
  });

  it('names the available ids for an unknown one', () => {
    writeDataset(home, draft, { train: tinySplit(2, 2, () => 1), test: tinySplit(1, 2, () => 1) });
    expect(() => openDataset(home, 'cifar10')).toThrow("unknown data set 'cifar10' (available: synthetic, tiny)");
    expect(() => openDataset(home, '../etc')).toThrow(/unknown data set/);
  });

  it('detects files changed on disk', () => {
    writeDataset(home, draft, { train: tinySplit(2, 2, () => 1), test: tinySplit(1, 2, () => 1) });
    const file = path.join(datasetDir(home, 'tiny'), 'train.images.u8');
    fs.chmodSync(file, 0o644);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 1;
    fs.writeFileSync(file, bytes);
    expect(() => openDataset(home, 'tiny')).toThrow(/split 'train' does not match its checksum/);
    fs.writeFileSync(file, bytes.subarray(0, 3072));
    expect(() => openDataset(home, 'tiny')).toThrow(/split 'train' has the wrong size/);
  });

  it('lists and removes data sets', () => {
    writeDataset(home, draft, { train: tinySplit(2, 2, () => 1), test: tinySplit(1, 2, () => 1) });
    expect(listDatasets(home).map((m) => m.id)).toEqual(['synthetic', 'tiny']);
    removeDataset(home, 'tiny');
    expect(fs.existsSync(datasetDir(home, 'tiny'))).toBe(false);
    expect(listDatasets(home).map((m) => m.id)).toEqual(['synthetic']);
    expect(() => removeDataset(home, 'tiny')).toThrow(/unknown data set 'tiny'/);
  });
});
