import { describe, expect, it } from 'vitest';
import { generateSynthetic, SYNTHETIC_CLASSES } from '../../../src-main/datasets/synthetic';

const IMAGE = 3072;

describe('synthetic data set', () => {
  const small = { seed: 7, trainCount: 60, testCount: 20 };

  it('is identical for a seed and different for another seed', () => {
    const a = generateSynthetic(small);
    const b = generateSynthetic(small);
    expect(a.train.images).toEqual(b.train.images);
    expect(a.test.labels).toEqual(b.test.labels);
    const c = generateSynthetic({ ...small, seed: 8 });
    expect(c.train.images).not.toEqual(a.train.images);
  });

  it('has the requested sizes, balanced labels and distinct train / test images', () => {
    const { train, test } = generateSynthetic(small);
    expect(train.count).toBe(60);
    expect(train.images.length).toBe(60 * IMAGE);
    expect(test.images.length).toBe(20 * IMAGE);
    for (let c = 0; c < SYNTHETIC_CLASSES.length; c++) expect([...train.labels].filter((l) => l === c).length).toBe(6);
    expect(test.images.subarray(0, IMAGE)).not.toEqual(train.images.subarray(0, IMAGE));
  });

  it('an image does not depend on how many images are drawn', () => {
    // Each image has its own stream, so a larger set starts with the same images when labels agree.
    const a = generateSynthetic({ seed: 3, trainCount: 10, testCount: 1 });
    const b = generateSynthetic({ seed: 3, trainCount: 10, testCount: 5 });
    expect(b.train.images).toEqual(a.train.images);
  });

  it('draws varied images that use the whole value range, no two alike', () => {
    const { train } = generateSynthetic(small);
    let min = 255;
    let max = 0;
    const seen = new Set<string>();
    for (let i = 0; i < train.count; i++) {
      const img = train.images.subarray(i * IMAGE, (i + 1) * IMAGE);
      for (const v of img) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      seen.add(Buffer.from(img).toString('base64'));
      // Noise and clutter: no image is close to flat.
      const mean = img.reduce((s, v) => s + v, 0) / IMAGE;
      const sd = Math.sqrt(img.reduce((s, v) => s + (v - mean) ** 2, 0) / IMAGE);
      expect(sd).toBeGreaterThan(5);
    }
    expect(min).toBeLessThan(20);
    expect(max).toBeGreaterThan(235);
    expect(seen.size).toBe(train.count);
  });
});
