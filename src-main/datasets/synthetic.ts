// The embedded default data set: 32x32 RGB images of ten shape / texture classes drawn procedurally,
// so that training works on a fresh machine with no download. Every image is drawn from its own
// seeded stream (seed, split, index), so the set is identical on every machine for a seed.
//
// What makes it learnable but not trivial: each class is a shape or a texture, drawn at a random
// position, size and rotation over a random gradient background with soft clutter blobs and lines,
// then per-pixel noise. The object's hue leans to one per class (15% of objects take any colour):
// a cue an ε = 8/255 perturbation cannot erase, so adversarial training gets going within an epoch
// (fine texture alone was not enough: FGSM training stayed near chance for two epochs), while
// colour alone classifies only about 60% (the test pins that range); the textured classes share
// one disc-shaped region, so the net has to look at the texture inside it.
import type { Split } from './types';
import { mixSeed, Rng } from '../random';
import { IMAGE_SIDE, IMAGE_VALUES } from '../../src-shared/datasets';

export const SYNTHETIC_CLASSES = [
  'disc',
  'ring',
  'square-frame',
  'cross',
  'triangle',
  'horizontal-stripes',
  'vertical-stripes',
  'diagonal-stripes',
  'checkerboard',
  'dot-grid',
] as const;

/** Bumped whenever the drawing changes, so that a stored copy made by an older version is redrawn. */
export const SYNTHETIC_VERSION = 3;

export const SYNTHETIC_DEFAULTS = { seed: 20220, trainCount: 5000, testCount: 1000 };

const PIXELS = IMAGE_SIDE * IMAGE_SIDE;

type Rgb = [number, number, number];

function hsv(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0: return [v, t, p];
    case 1: return [q, v, p];
    case 2: return [p, v, t];
    case 3: return [p, q, v];
    case 4: return [t, p, v];
    default: return [v, p, q];
  }
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
/** Coverage of a pixel from a signed distance in pixels (negative inside): a one-pixel soft edge. */
const cover = (d: number) => clamp01(0.5 - d);

/** Blends colour c into the float RGB canvas with per-pixel alpha alpha*mask. */
function blend(canvas: Float32Array, mask: Float32Array, c: Rgb, alpha: number): void {
  for (let p = 0; p < PIXELS; p++) {
    const a = mask[p] * alpha;
    if (a <= 0) continue;
    const o = p * 3;
    canvas[o] += (c[0] - canvas[o]) * a;
    canvas[o + 1] += (c[1] - canvas[o + 1]) * a;
    canvas[o + 2] += (c[2] - canvas[o + 2]) * a;
  }
}

function drawBackground(canvas: Float32Array, rng: Rng): number {
  const c0 = hsv(rng.next(), rng.uniform(0, 0.35), rng.uniform(0.15, 0.9));
  const c1 = hsv(rng.next(), rng.uniform(0, 0.35), rng.uniform(0.15, 0.9));
  const angle = rng.uniform(0, 2 * Math.PI);
  const dx = Math.cos(angle) / IMAGE_SIDE;
  const dy = Math.sin(angle) / IMAGE_SIDE;
  for (let y = 0; y < IMAGE_SIDE; y++) {
    for (let x = 0; x < IMAGE_SIDE; x++) {
      const t = clamp01(0.5 + (x - 15.5) * dx + (y - 15.5) * dy);
      const o = (y * IMAGE_SIDE + x) * 3;
      for (let k = 0; k < 3; k++) canvas[o + k] = c0[k] + (c1[k] - c0[k]) * t;
    }
  }
  return (c0[0] + c0[1] + c0[2] + c1[0] + c1[1] + c1[2]) / 6;
}

function drawClutter(canvas: Float32Array, mask: Float32Array, rng: Rng): void {
  const blobs = 1 + rng.int(3);
  for (let b = 0; b < blobs; b++) {
    const cx = rng.uniform(0, IMAGE_SIDE);
    const cy = rng.uniform(0, IMAGE_SIDE);
    const r = rng.uniform(2, 7);
    for (let y = 0; y < IMAGE_SIDE; y++) {
      for (let x = 0; x < IMAGE_SIDE; x++) {
        const d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (r * r);
        mask[y * IMAGE_SIDE + x] = Math.exp(-d2);
      }
    }
    blend(canvas, mask, hsv(rng.next(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 1)), rng.uniform(0.15, 0.4));
  }
  const lines = rng.int(2);
  for (let l = 0; l < lines; l++) {
    const x0 = rng.uniform(0, IMAGE_SIDE);
    const y0 = rng.uniform(0, IMAGE_SIDE);
    const angle = rng.uniform(0, Math.PI);
    const nx = -Math.sin(angle);
    const ny = Math.cos(angle);
    const half = rng.uniform(0.4, 0.9);
    for (let y = 0; y < IMAGE_SIDE; y++) {
      for (let x = 0; x < IMAGE_SIDE; x++) mask[y * IMAGE_SIDE + x] = cover(Math.abs((x - x0) * nx + (y - y0) * ny) - half);
    }
    blend(canvas, mask, hsv(rng.next(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 1)), rng.uniform(0.2, 0.45));
  }
}

/** Signed distance (pixels, negative inside) or coverage of the class pattern at a point in the object's frame. */
type Pattern = (u: number, v: number) => number;

function classPattern(label: number, r: number, rng: Rng): Pattern {
  // Textures fill a disc; their period is drawn per image.
  const inDisc = (u: number, v: number) => cover(Math.sqrt(u * u + v * v) - r);
  const stripes = (period: number) => {
    const phase = rng.uniform(0, 2 * Math.PI);
    return (u: number, v: number) => inDisc(u, v) * clamp01(0.5 + 1.6 * Math.sin((2 * Math.PI * v) / period + phase));
  };
  switch (label) {
    case 0:
      return (u, v) => cover(Math.sqrt(u * u + v * v) - r);
    case 1: {
      const half = r * rng.uniform(0.14, 0.22);
      const mid = r - half;
      return (u, v) => cover(Math.abs(Math.sqrt(u * u + v * v) - mid) - half);
    }
    case 2: {
      const a = r * 0.9;
      const t = Math.max(1.6, r * rng.uniform(0.22, 0.32));
      return (u, v) => {
        const c = Math.max(Math.abs(u), Math.abs(v));
        return cover(Math.max(c - a, a - t - c));
      };
    }
    case 3: {
      const w = Math.max(1.2, r * rng.uniform(0.18, 0.28));
      return (u, v) => {
        const au = Math.abs(u);
        const av = Math.abs(v);
        return cover(Math.min(Math.max(au - r, av - w), Math.max(au - w, av - r)));
      };
    }
    case 4: {
      const R = r * 1.15;
      // Outward normals of an upward-pointing equilateral triangle (image y grows downwards).
      const normals = [90, 210, 330].map((deg) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]);
      return (u, v) => cover(Math.max(...normals.map(([nx, ny]) => u * nx + v * ny)) - R / 2);
    }
    case 5:
    case 6:
    case 7:
      // Stripes run along u in the object's frame; the rotation (set by the caller) orients them.
      return stripes(rng.uniform(3.5, 6));
    case 8: {
      const cell = rng.uniform(2.2, 4);
      const phase = rng.next() * cell;
      return (u, v) => {
        const s = Math.sin((Math.PI * (u + phase)) / cell) * Math.sin((Math.PI * (v + phase)) / cell);
        return inDisc(u, v) * clamp01(0.5 + 2 * s);
      };
    }
    case 9: {
      const spacing = rng.uniform(3.8, 5.5);
      const dot = rng.uniform(0.9, 1.4);
      const off = rng.next() * spacing;
      return (u, v) => {
        const du = u + off - spacing * Math.round((u + off) / spacing);
        const dv = v + off - spacing * Math.round((v + off) / spacing);
        return inDisc(u, v) * cover(Math.sqrt(du * du + dv * dv) - dot);
      };
    }
    default:
      throw new Error(`synthetic class ${label} does not exist`);
  }
}

/** Rotation of the object's frame, per class: what distinguishes horizontal, vertical and diagonal stripes. */
function classRotation(label: number, rng: Rng): number {
  const jitter = (deg: number) => (rng.uniform(-deg, deg) * Math.PI) / 180;
  switch (label) {
    case 5: return jitter(12);
    case 6: return Math.PI / 2 + jitter(12);
    case 7: return (rng.next() < 0.5 ? Math.PI / 4 : -Math.PI / 4) + jitter(10);
    case 0: case 1: return 0;
    default: return jitter(25);
  }
}

/** The object's hue: usually near its class's hue, sometimes anything. */
function objectHue(label: number, rng: Rng): number {
  if (rng.next() < 0.15) return rng.next();
  return (label / SYNTHETIC_CLASSES.length + 0.025 * rng.normal() + 1) % 1;
}

/** Draws one image of class `label` into out[offset … offset+IMAGE_VALUES) as HWC uint8. */
function drawSyntheticImage(label: number, rng: Rng, out: Uint8Array, offset: number): void {
  const canvas = new Float32Array(IMAGE_VALUES);
  const mask = new Float32Array(PIXELS);
  const bgLevel = drawBackground(canvas, rng);
  drawClutter(canvas, mask, rng);

  const r = rng.uniform(6, 11);
  const margin = Math.min(r, 10);
  const cx = rng.uniform(margin, IMAGE_SIDE - 1 - margin);
  const cy = rng.uniform(margin, IMAGE_SIDE - 1 - margin);
  const theta = classRotation(label, rng);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const pattern = classPattern(label, r, rng);
  for (let y = 0; y < IMAGE_SIDE; y++) {
    for (let x = 0; x < IMAGE_SIDE; x++) {
      const dx = x - cx;
      const dy = y - cy;
      mask[y * IMAGE_SIDE + x] = pattern(dx * cos + dy * sin, -dx * sin + dy * cos);
    }
  }
  // Foreground brightness is pushed away from the background's so the object stays visible.
  const value = bgLevel > 0.5 ? rng.uniform(0.25, 0.45) : rng.uniform(0.6, 1);
  blend(canvas, mask, hsv(objectHue(label, rng), rng.uniform(0.7, 1), value), rng.uniform(0.8, 1));

  const sigma = rng.uniform(0.01, 0.05);
  for (let i = 0; i < IMAGE_VALUES; i++) {
    const v = canvas[i] + sigma * rng.normal();
    out[offset + i] = Math.round(clamp01(v) * 255);
  }
}

function drawSplit(seed: number, splitIndex: number, count: number): Split {
  const images = new Uint8Array(count * IMAGE_VALUES);
  const labels = new Uint8Array(count);
  // Balanced classes in a seeded order.
  for (let i = 0; i < count; i++) labels[i] = i % SYNTHETIC_CLASSES.length;
  new Rng(mixSeed(seed, splitIndex, 0x5eed)).shuffle(labels);
  for (let i = 0; i < count; i++) {
    drawSyntheticImage(labels[i], new Rng(mixSeed(seed, splitIndex, i)), images, i * IMAGE_VALUES);
  }
  return { images, labels, count };
}

export function generateSynthetic(opts: Partial<typeof SYNTHETIC_DEFAULTS> = {}): { train: Split; test: Split } {
  const { seed, trainCount, testCount } = { ...SYNTHETIC_DEFAULTS, ...opts };
  return { train: drawSplit(seed, 0, trainCount), test: drawSplit(seed, 1, testCount) };
}
