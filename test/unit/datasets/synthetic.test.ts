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

  it('is learnable from a robust cue, but not from colour alone', () => {
    // The mean colour of each image's 100 pixels farthest from its mean colour (mostly the object),
    // classified by the nearest class centroid. An ε = 8/255 perturbation barely moves this feature,
    // so adversarial training has something to learn within an epoch; shape and texture carry the
    // rest of the label.
    const { train, test } = generateSynthetic({ seed: 7, trainCount: 1000, testCount: 500 });
    const objectColour = (images: Uint8Array, i: number): number[] => {
      const pixels = Array.from({ length: 1024 }, (_, p) => [0, 1, 2].map((c) => images[i * IMAGE + p * 3 + c]));
      const mean = [0, 1, 2].map((c) => pixels.reduce((s, px) => s + px[c], 0) / 1024);
      const far = pixels.map((px) => ({ px, d: Math.hypot(px[0] - mean[0], px[1] - mean[1], px[2] - mean[2]) })).sort((a, b) => b.d - a.d).slice(0, 100);
      return [0, 1, 2].map((c) => far.reduce((s, f) => s + f.px[c], 0) / 100);
    };
    const centroids = SYNTHETIC_CLASSES.map(() => [0, 0, 0]);
    for (let i = 0; i < train.count; i++) {
      objectColour(train.images, i).forEach((v, c) => (centroids[train.labels[i]][c] += v / (train.count / SYNTHETIC_CLASSES.length)));
    }
    let correct = 0;
    for (let i = 0; i < test.count; i++) {
      const f = objectColour(test.images, i);
      const dist = centroids.map((m) => Math.hypot(f[0] - m[0], f[1] - m[1], f[2] - m[2]));
      if (dist.indexOf(Math.min(...dist)) === test.labels[i]) correct++;
    }
    const accuracy = correct / test.count;
    expect(accuracy).toBeGreaterThan(0.4);
    expect(accuracy).toBeLessThan(0.85);
  });
});
