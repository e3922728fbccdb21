import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetPreview } from '../../../src-main/datasets/preview';
import { writeDataset } from '../../../src-main/datasets/store';
import { hwc } from './fixtures';

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-preview-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

/** Decodes the RGB pixels of an unfiltered 8-bit RGB PNG data URL (what the encoder writes). */
function decode(url: string): { width: number; height: number; rgb: Buffer } {
  const png = Buffer.from(url.replace(/^data:image\/png;base64,/, ''), 'base64');
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (o < png.length) {
    const len = png.readUInt32BE(o);
    const type = png.toString('ascii', o + 4, o + 8);
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([data[8], data[9]]).toEqual([8, 2]);
    }
    if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 3 + 1)]).toBe(0);
    raw.copy(rgb, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return { width, height, rgb };
}

describe('datasetPreview', () => {
  it('gives class counts per split and the first images of each class as PNG data URLs', () => {
    // Train labels 0,1,2,0,1,0 (class 0 three times); image i is fixture image i.
    const trainLabels = [0, 1, 2, 0, 1, 0];
    writeDataset(
      home,
      { id: 'p', name: 'P', source: 'cifar10-bin', classes: ['a', 'b', 'c'], flipAugment: true, origin: {} },
      {
        train: { images: hwc([0, 1, 2, 3, 4, 5]), labels: Uint8Array.from(trainLabels), count: 6 },
        test: { images: hwc([6, 7]), labels: Uint8Array.from([2, 2]), count: 2 },
      },
    );
    const p = datasetPreview(home, 'p', 2);
    expect(p.classes).toEqual(['a', 'b', 'c']);
    expect(p.counts).toEqual({ train: [3, 2, 1], test: [0, 0, 2] });
    expect(p.samples.map((s) => [s.label, s.images.length])).toEqual([[0, 2], [1, 2], [2, 1]]);
    const second = decode(p.samples[0].images[1]);
    expect([second.width, second.height]).toEqual([32, 32]);
    expect(second.rgb.equals(Buffer.from(hwc([3])))).toBe(true);
    expect(decode(p.samples[2].images[0]).rgb.equals(Buffer.from(hwc([2])))).toBe(true);
    const test = datasetPreview(home, 'p', 1, 'test');
    expect(decode(test.samples[2].images[0]).rgb.equals(Buffer.from(hwc([6])))).toBe(true);
    expect(() => datasetPreview(home, 'p', 1, 'extra')).toThrow("data set 'p' has no 'extra' split (it has: train, test)");
    expect(() => datasetPreview(home, 'nope', 1)).toThrow(/unknown data set 'nope'/);
  });
});
