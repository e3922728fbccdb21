import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src-main/datasets/catalog';
import { importDataset } from '../../../src-main/datasets/importers';
import { CIFAR10_NAMES, COARSE, FINE, cifarRecords, hwc, snapshot, svhnVars, tarGz, writeCifar100Folder, writeCifar10Folder, writeMat } from './fixtures';

let home: string;
let work: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-import-home-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-import-src-'));
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Runs a failing import and checks the error and that the data folder is untouched. */
async function rejects(input: string, message: RegExp, opts = {}) {
  const before = snapshot(home);
  await expect(importDataset(home, input, opts)).rejects.toThrow(message);
  expect(snapshot(home)).toEqual(before);
}

describe('CIFAR-10 binary version', () => {
  it('imports the extracted folder pixel-exactly, with the class names from batches.meta.txt', async () => {
    const fx = writeCifar10Folder(work);
    const m = await importDataset(home, fx.dir);
    expect(m).toMatchObject({ id: 'cifar10', source: 'cifar10', classes: CIFAR10_NAMES, flipAugment: true });
    expect(m.splits.train.count).toBe(15);
    const d = openDataset(home, 'cifar10');
    expect(bytesEqual(d.train.images, fx.train.images)).toBe(true);
    expect([...d.train.labels]).toEqual(fx.train.labels);
    expect(bytesEqual(d.test.images, fx.test.images)).toBe(true);
    expect([...d.test.labels]).toEqual([9, 3]);
    expect(Date.parse(m.importedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('imports the .tar.gz (and the folder holding cifar-10-batches-bin/) to the same data', async () => {
    const fx = writeCifar10Folder(work);
    const archive = await tarGz(fx.dir, path.join(work, 'cifar-10-binary.tar.gz'));
    const a = await importDataset(home, archive);
    const b = await importDataset(home, work, { name: 'CIFAR-10 again' }).catch((e: Error) => e);
    // Same data under another name is refused as a duplicate.
    expect(b).toBeInstanceOf(Error);
    expect((b as Error).message).toMatch(/already imported as 'cifar10'/);
    const d = openDataset(home, a.id);
    expect(bytesEqual(d.train.images, fx.train.images)).toBe(true);
    expect([...d.test.labels]).toEqual([9, 3]);
  });

  it('refuses a folder with a missing batch, a truncated batch, an out-of-range label, and a duplicate id', async () => {
    const fx = writeCifar10Folder(work);
    const batch4 = path.join(fx.dir, 'data_batch_4.bin');
    const saved = fs.readFileSync(batch4);
    fs.rmSync(batch4);
    await rejects(fx.dir, /missing data_batch_4\.bin/);
    fs.writeFileSync(batch4, saved.subarray(0, saved.length - 10));
    await rejects(fx.dir, /data_batch_4\.bin is 9209 bytes, not a whole number of 3073-byte records/);
    const bad = Buffer.from(saved);
    bad[3073] = 10;
    fs.writeFileSync(batch4, bad);
    await rejects(fx.dir, /data_batch_4\.bin: record 2 has label 10, outside 0–9/);
    fs.writeFileSync(batch4, saved);
    await importDataset(home, fx.dir);
    await rejects(fx.dir, /a data set with id 'cifar10' already exists/);
  });

  it('refuses a damaged or truncated archive, a gzip that is not a tar, and an archive of something else', async () => {
    const fx = writeCifar10Folder(work);
    const archive = await tarGz(fx.dir, path.join(work, 'cifar-10-binary.tar.gz'));
    const bytes = fs.readFileSync(archive);
    const truncated = path.join(work, 'truncated.tar.gz');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejects(truncated, /truncated\.tar\.gz: not a readable \.tar\.gz archive/);
    const fake = path.join(work, 'fake.tar.gz');
    fs.writeFileSync(fake, 'this is text');
    await rejects(fake, /fake\.tar\.gz: not a gzip file/);
    const other = path.join(work, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'x.txt'), 'x');
    await rejects(await tarGz(other, path.join(work, 'other.tar.gz')), /holds neither cifar-10-batches-bin\/ nor cifar-100-binary\/ \(found: other\)/);
  });
});

describe('CIFAR-100 binary version', () => {
  it('imports fine labels by default and coarse labels on request, pixel-exactly', async () => {
    const fx = writeCifar100Folder(work);
    const archive = await tarGz(fx.dir, path.join(work, 'cifar-100-binary.tar.gz'));
    const fine = await importDataset(home, archive);
    expect(fine).toMatchObject({ id: 'cifar100-fine', source: 'cifar100', classes: FINE });
    const coarse = await importDataset(home, fx.dir, { labels: 'coarse' });
    expect(coarse).toMatchObject({ id: 'cifar100-coarse', classes: COARSE });
    const f = openDataset(home, 'cifar100-fine');
    const c = openDataset(home, 'cifar100-coarse');
    expect([...f.train.labels]).toEqual(fx.trainFine);
    expect([...c.train.labels]).toEqual(fx.trainCoarse);
    expect([...f.test.labels]).toEqual([1, 42]);
    expect([...c.test.labels]).toEqual([1, 2]);
    expect(bytesEqual(f.train.images, fx.train)).toBe(true);
    expect(bytesEqual(c.test.images, fx.test)).toBe(true);
  });

  it('refuses coarse labels out of range and a missing label-name file', async () => {
    const fx = writeCifar100Folder(work);
    const train = path.join(fx.dir, 'train.bin');
    const bytes = fs.readFileSync(train);
    bytes[0] = 20;
    fs.writeFileSync(train, bytes);
    await rejects(fx.dir, /train\.bin: record 1 has label 20, outside 0–19/, { labels: 'coarse' });
    fs.rmSync(path.join(fx.dir, 'fine_label_names.txt'));
    await rejects(fx.dir, /missing fine_label_names\.txt/);
  });
});

describe('SVHN (.mat level 5)', () => {
  function writeSvhn(dir: string, opts: { compress: boolean; bigEndian?: boolean; yDouble?: boolean }) {
    fs.mkdirSync(dir, { recursive: true });
    writeMat(path.join(dir, 'train_32x32.mat'), svhnVars([0, 1, 2], [10, 1, 9], opts), opts);
    writeMat(path.join(dir, 'test_32x32.mat'), svhnVars([7, 8], [3, 10], opts), opts);
  }

  for (const variant of [{ compress: true }, { compress: false, bigEndian: true, yDouble: true }]) {
    it(`imports train/test pixel-exactly and maps label 10 to 0 (${JSON.stringify(variant)})`, async () => {
      writeSvhn(work, variant);
      const m = await importDataset(home, path.join(work, 'train_32x32.mat'));
      expect(m).toMatchObject({ id: 'svhn', source: 'svhn', classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], flipAugment: false });
      const d = openDataset(home, 'svhn');
      expect([...d.train.labels]).toEqual([0, 1, 9]);
      expect([...d.test.labels]).toEqual([3, 0]);
      expect(bytesEqual(d.train.images, hwc([0, 1, 2]))).toBe(true);
      expect(bytesEqual(d.test.images, hwc([7, 8]))).toBe(true);
    });
  }

  it('reads a file written by another implementation (scipy.io.savemat, compressed)', async () => {
    // svhn-scipy.mat: X[r,c,ch,n] = (7r + 3c + 50ch + 11n) mod 256, y = [1, 10, 5].
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'svhn-scipy.mat'), path.join(work, 'train_32x32.mat'));
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'svhn-scipy.mat'), path.join(work, 'test_32x32.mat'));
    await importDataset(home, work);
    const d = openDataset(home, 'svhn');
    expect([...d.train.labels]).toEqual([1, 0, 5]);
    for (const [r, c, ch, n] of [[0, 1, 2, 1], [5, 3, 0, 2], [31, 31, 1, 0]]) {
      expect(d.train.images[n * 3072 + (r * 32 + c) * 3 + ch]).toBe((7 * r + 3 * c + 50 * ch + 11 * n) % 256);
    }
  });

  it('imports extra_32x32.mat as a third split only when asked', async () => {
    writeSvhn(work, { compress: true });
    writeMat(path.join(work, 'extra_32x32.mat'), svhnVars([20], [4]), { compress: true });
    const m = await importDataset(home, work, { withExtra: true, name: 'svhn-extra' });
    expect(Object.keys(m.splits).sort()).toEqual(['extra', 'test', 'train']);
    expect(m.splits.extra.count).toBe(1);
  });

  it('refuses a .mat without X or y, labels outside 1–10, truncated files, a missing test file and non-MAT files', async () => {
    writeSvhn(work, { compress: true });
    const train = path.join(work, 'train_32x32.mat');
    const good = fs.readFileSync(train);
    writeMat(train, [svhnVars([0], [1])[1], { name: 'images', arrayClass: 9, dims: [1, 1], dataType: 2, values: [0] }], { compress: false });
    await rejects(work, /train_32x32\.mat: has no numeric variable 'X' \(variables found: y, images\)/);
    writeMat(train, svhnVars([0, 1], [0, 1]), { compress: true });
    await rejects(work, /train_32x32\.mat: label 1 is 0; SVHN labels are 1–10/);
    writeMat(train, svhnVars([0, 1], [11, 1]), { compress: true });
    await rejects(work, /label 1 is 11/);
    fs.writeFileSync(train, good.subarray(0, good.length - 100));
    await rejects(work, /train_32x32\.mat: (the file ends early|a compressed block is damaged)/);
    writeMat(train, svhnVars([0], [1]), { compress: false });
    fs.writeFileSync(train, fs.readFileSync(train).subarray(0, 2000));
    await rejects(work, /train_32x32\.mat: the file ends early \(truncated\?\)/);
    fs.writeFileSync(train, good);
    fs.rmSync(path.join(work, 'test_32x32.mat'));
    await rejects(train, /missing test_32x32\.mat/);
    const fake = path.join(work, 'test_32x32.mat');
    fs.writeFileSync(fake, 'not a mat file at all, just some text that is long enough');
    await rejects(fake, /test_32x32\.mat: not a MATLAB level-5 MAT-file/);
  });
});

describe('single .bin in the CIFAR-10 record layout', () => {
  it('uses the sibling test file when there is one', async () => {
    const train = path.join(work, 'subset-train.bin');
    fs.writeFileSync(train, cifarRecords([0, 1, 2, 3].map((i) => ({ image: i, labels: [i * 2] }))));
    fs.writeFileSync(path.join(work, 'subset-test.bin'), cifarRecords([{ image: 9, labels: [5] }]));
    const m = await importDataset(home, train);
    expect(m).toMatchObject({ id: 'subset-train', source: 'cifar10-bin', classes: CIFAR10_NAMES, splits: { train: { count: 4 }, test: { count: 1 } } });
    const d = openDataset(home, 'subset-train');
    expect([...d.train.labels]).toEqual([0, 2, 4, 6]);
    expect(bytesEqual(d.train.images, hwc([0, 1, 2, 3]))).toBe(true);
    expect(bytesEqual(d.test.images, hwc([9]))).toBe(true);
  });

  it('holds out the last tenth as the test split when there is no test file', async () => {
    const file = path.join(work, 'mine.bin');
    fs.writeFileSync(file, cifarRecords(Array.from({ length: 20 }, (_, i) => ({ image: i, labels: [i % 10] }))));
    const m = await importDataset(home, file, { name: 'My Subset' });
    expect(m).toMatchObject({ id: 'my-subset', name: 'My Subset', splits: { train: { count: 18 }, test: { count: 2 } } });
    const d = openDataset(home, 'my-subset');
    expect(bytesEqual(d.test.images, hwc([18, 19]))).toBe(true);
  });

  it('refuses truncated records, labels out of range, unknown file types and missing paths', async () => {
    const file = path.join(work, 'x.bin');
    fs.writeFileSync(file, cifarRecords([{ image: 0, labels: [1] }, { image: 1, labels: [2] }]).subarray(0, 3073 + 100));
    await rejects(file, /x\.bin: is 3173 bytes, not a whole number of 3073-byte records .* 1 complete records and 100 bytes left over/);
    fs.writeFileSync(file, cifarRecords([{ image: 0, labels: [1] }, { image: 1, labels: [12] }]));
    await rejects(file, /x\.bin: record 2 has label 12, outside 0–9/);
    const txt = path.join(work, 'notes.txt');
    fs.writeFileSync(txt, 'hello');
    await rejects(txt, /notes\.txt: unsupported file type/);
    await rejects(path.join(work, 'nope.bin'), /nope\.bin: no such file or folder/);
    await rejects(work, /the folder holds none of the expected files/);
  });
});
