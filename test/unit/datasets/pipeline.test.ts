import { describe, expect, it } from 'vitest';
import { BatchPipeline, splitValidation, writeAugmented } from '../../../src-main/datasets/pipeline';
import type { Batch, Split } from '../../../src-main/datasets/types';

const IMAGE = 32 * 32 * 3;

/** Image i has pixel (y, x, c) = (i*7 + y*3 + x*5 + c) mod 251 + 1: never zero, every position distinct enough. */
function pixel(i: number, y: number, x: number, c: number): number {
  return ((i * 7 + y * 3 + x * 5 + c) % 251) + 1;
}

function handMade(count: number, labelOf = (i: number) => i % 10): Split {
  const images = new Uint8Array(count * IMAGE);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = labelOf(i);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) images[i * IMAGE + (y * 32 + x) * 3 + c] = pixel(i, y, x, c);
  }
  return { images, labels, count };
}

async function collect(p: BatchPipeline, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of p.epoch(epoch)) out.push(b);
  return out;
}

describe('writeAugmented', () => {
  const split = handMade(2);
  const at = (dst: Float32Array, y: number, x: number, c: number) => dst[(y * 32 + x) * 3 + c];

  it('copies the image unchanged for the centre crop without flip', () => {
    const dst = new Float32Array(IMAGE);
    writeAugmented(split.images, 1, dst, 0, { dx: 4, dy: 4, flip: false });
    for (let k = 0; k < IMAGE; k++) expect(dst[k]).toBe(Math.fround(split.images[IMAGE + k] / 255));
  });

  it('shifts by the crop offset and fills the padding with zeros', () => {
    const dst = new Float32Array(IMAGE).fill(-1);
    writeAugmented(split.images, 0, dst, 0, { dx: 0, dy: 8, flip: false });
    // dy = 8: output row y shows source row y + 4; the last 4 rows come from the padding.
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const sy = y + 4;
        const sx = x - 4;
        const want = sy < 32 && sx >= 0 ? pixel(0, sy, sx, 2) / 255 : 0;
        expect(at(dst, y, x, 2)).toBeCloseTo(want, 7);
      }
    }
  });

  it('mirrors columns when flipping', () => {
    const dst = new Float32Array(IMAGE);
    writeAugmented(split.images, 0, dst, 0, { dx: 4, dy: 4, flip: true });
    for (let y = 0; y < 32; y += 5) for (let x = 0; x < 32; x++) expect(at(dst, y, x, 1)).toBeCloseTo(pixel(0, y, 31 - x, 1) / 255, 7);
  });

  it('crops, then flips', () => {
    const dst = new Float32Array(IMAGE);
    writeAugmented(split.images, 0, dst, 0, { dx: 6, dy: 4, flip: true });
    // The crop's column x is source column x + 2; mirrored, output column x is source column 33 - x.
    for (let x = 0; x < 32; x++) expect(at(dst, 3, x, 0)).toBeCloseTo(x >= 2 ? pixel(0, 3, 33 - x, 0) / 255 : 0, 7);
  });
});

describe('BatchPipeline', () => {
  const split = handMade(23);

  it('yields NHWC float batches in [0,1] with int labels, covering each image once per epoch', async () => {
    const p = new BatchPipeline(split, { batchSize: 5, shuffle: true, augment: true, flip: true, seed: 3 });
    expect(p.batchesPerEpoch).toBe(5);
    const batches = await collect(p, 0);
    expect(batches.map((b) => b.size)).toEqual([5, 5, 5, 5, 3]);
    const seen: number[] = [];
    for (const b of batches) {
      expect(b.x).toBeInstanceOf(Float32Array);
      expect(b.x.length).toBe(b.size * IMAGE);
      expect(b.y).toBeInstanceOf(Int32Array);
      for (const v of b.x) expect(v >= 0 && v <= 1).toBe(true);
      seen.push(...b.y);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([...split.labels].sort((a, b) => a - b));
  });

  it('without shuffle or augmentation gives the images in order, exactly /255', async () => {
    const p = new BatchPipeline(split, { batchSize: 10, shuffle: false, augment: false, flip: true, seed: 1 });
    const [first] = await collect(p, 4);
    expect([...first.y]).toEqual([...split.labels.subarray(0, 10)]);
    for (let k = 0; k < 10 * IMAGE; k += 97) expect(first.x[k]).toBe(Math.fround(split.images[k] / 255));
  });

  it('drops the last partial batch when asked', async () => {
    const p = new BatchPipeline(split, { batchSize: 5, shuffle: true, augment: false, flip: false, seed: 1, dropLast: true });
    expect(p.batchesPerEpoch).toBe(4);
    expect((await collect(p, 0)).length).toBe(4);
  });

  it('is deterministic for (seed, epoch), differs across epochs and seeds, and batches can be built alone (resume)', async () => {
    const opts = { batchSize: 4, shuffle: true, augment: true, flip: true, seed: 11 };
    const a = await collect(new BatchPipeline(split, opts), 2);
    const b = await collect(new BatchPipeline(split, opts), 2);
    expect(a).toEqual(b);
    const other = await collect(new BatchPipeline(split, opts), 3);
    expect(other[0].x).not.toEqual(a[0].x);
    const otherSeed = await collect(new BatchPipeline(split, { ...opts, seed: 12 }), 2);
    expect(otherSeed[0].x).not.toEqual(a[0].x);
    expect(new BatchPipeline(split, opts).batch(2, 3)).toEqual(a[3]);
  });

  /** One image whose red channel is row + 1 and green channel column + 1: the augmentation can be read back. */
  function coordinateImage(): Split {
    const images = new Uint8Array(IMAGE);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      images[(y * 32 + x) * 3] = y + 1;
      images[(y * 32 + x) * 3 + 1] = x + 1;
    }
    return { images, labels: new Uint8Array(1), count: 1 };
  }

  /** Reads the augmentation back from the centre pixels, and checks the whole image matches it. */
  function readAugmentation(one: Split, x: Float32Array): string {
    const at = (py: number, px: number, c: number) => Math.round(x[(py * 32 + px) * 3 + c] * 255);
    const flip = at(16, 17, 1) < at(16, 16, 1);
    const dy = at(16, 16, 0) - 1 - 12;
    // Unflipped, output column 16 is source column 12 + dx; flipped, 31 - 16 + dx - 4 = 11 + dx.
    const dx = at(16, 16, 1) - 1 - (flip ? 11 : 12);
    const want = new Float32Array(IMAGE);
    writeAugmented(one.images, 0, want, 0, { dx, dy, flip });
    expect(x).toEqual(want);
    return `${dx},${dy},${flip}`;
  }

  it('draws every crop offset and never flips when flip is off', () => {
    const one = coordinateImage();
    const p = new BatchPipeline(one, { batchSize: 1, shuffle: true, augment: true, flip: false, seed: 5 });
    const seen = new Set<string>();
    for (let e = 0; e < 1000; e++) seen.add(readAugmentation(one, p.batch(e, 0).x));
    expect(seen.size).toBe(81);
    expect([...seen].every((s) => s.endsWith('false'))).toBe(true);
  });

  it('flips about half of the images when flip is on', () => {
    const one = coordinateImage();
    const p = new BatchPipeline(one, { batchSize: 1, shuffle: false, augment: true, flip: true, seed: 5 });
    let flipped = 0;
    for (let e = 0; e < 400; e++) if (readAugmentation(one, p.batch(e, 0).x).endsWith('true')) flipped++;
    expect(flipped).toBeGreaterThan(160);
    expect(flipped).toBeLessThan(240);
  });

  it('stops cleanly when the consumer breaks out early', async () => {
    const p = new BatchPipeline(split, { batchSize: 2, shuffle: true, augment: true, flip: true, seed: 1 });
    let n = 0;
    for await (const _ of p.epoch(0)) if (++n === 2) break;
    expect(n).toBe(2);
  });

  it('reads only the first `count` images of a shortened split', async () => {
    const short = { ...split, count: 6 };
    const p = new BatchPipeline(short, { batchSize: 4, shuffle: true, augment: false, flip: false, seed: 1 });
    const labels = (await collect(p, 0)).flatMap((b) => [...b.y]);
    expect(labels.sort()).toEqual([...split.labels.subarray(0, 6)].sort());
  });
});

describe('splitValidation', () => {
  it('splits each class by the fraction, deterministically, keeping image/label pairs', () => {
    const split = handMade(100);
    const a = splitValidation(split, 0.2, 9);
    expect(a.validation.count).toBe(20);
    expect(a.train.count).toBe(80);
    for (let c = 0; c < 10; c++) expect([...a.validation.labels].filter((l) => l === c).length).toBe(2);
    expect(splitValidation(split, 0.2, 9)).toEqual(a);
    expect(splitValidation(split, 0.2, 10).validation.images).not.toEqual(a.validation.images);
    // Image i is recognisable by its first pixel, (i*7) mod 251 + 1: the label must still be i mod 10.
    for (let j = 0; j < a.validation.count; j++) {
      const first = a.validation.images[j * IMAGE] - 1;
      const i = [...Array(100).keys()].find((k) => (k * 7) % 251 === first)!;
      expect(a.validation.labels[j]).toBe(i % 10);
    }
  });

  it('rejects fractions outside (0, 1)', () => {
    expect(() => splitValidation(handMade(4), 1, 0)).toThrow(/between 0 and 1/);
  });
});
