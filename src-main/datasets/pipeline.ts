// The input pipeline: shuffled batches with the standard CIFAR augmentation (random 32x32 crop of the
// image zero-padded by 4 pixels, then a horizontal flip with probability 1/2), pixels scaled to [0,1].
//
// Everything random is drawn from streams keyed by (seed, epoch) for the order and (seed, epoch, batch)
// for the augmentation, so batch b of epoch e is the same whether a run got there directly or resumed
// from a checkpoint, and a batch can be built without building the ones before it.
import { IMAGE_SIDE, IMAGE_VALUES } from '../../src-shared/datasets';
import { mixSeed, Rng } from '../random';
import type { Batch, Split } from './types';

export interface PipelineOptions {
  batchSize: number;
  shuffle: boolean;
  /** Random crop with 4-pixel zero padding, and flips when `flip` is set. */
  augment: boolean;
  /** Horizontal flips (off for digits). Only used when `augment` is set. */
  flip: boolean;
  seed: number;
  /** Drop the last, smaller batch of an epoch. */
  dropLast?: boolean;
  /** Batches prepared ahead of the consumer (default 2). */
  prefetch?: number;
}

const PAD = 4;
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** One image's augmentation: crop offset in the padded image (0…2·PAD) and whether to mirror it. */
export interface Augmentation {
  dx: number;
  dy: number;
  flip: boolean;
}

/**
 * Writes image `src` (HWC uint8) into dst at `offset` as floats in [0,1], shifted by the crop and
 * optionally mirrored. Pixels that come from the padding are zero.
 */
export function writeAugmented(images: Uint8Array, src: number, dst: Float32Array, offset: number, aug: Augmentation): void {
  const base = src * IMAGE_VALUES;
  for (let y = 0; y < IMAGE_SIDE; y++) {
    const sy = y + aug.dy - PAD;
    const row = offset + y * IMAGE_SIDE * 3;
    if (sy < 0 || sy >= IMAGE_SIDE) {
      dst.fill(0, row, row + IMAGE_SIDE * 3);
      continue;
    }
    const srcRow = base + sy * IMAGE_SIDE * 3;
    for (let x = 0; x < IMAGE_SIDE; x++) {
      const sx = (aug.flip ? IMAGE_SIDE - 1 - x : x) + aug.dx - PAD;
      const o = row + x * 3;
      if (sx < 0 || sx >= IMAGE_SIDE) {
        dst[o] = 0;
        dst[o + 1] = 0;
        dst[o + 2] = 0;
      } else {
        const s = srcRow + sx * 3;
        dst[o] = TO_UNIT[images[s]];
        dst[o + 1] = TO_UNIT[images[s + 1]];
        dst[o + 2] = TO_UNIT[images[s + 2]];
      }
    }
  }
}

const IDENTITY: Augmentation = { dx: PAD, dy: PAD, flip: false };

export class BatchPipeline {
  readonly batchesPerEpoch: number;
  private readonly opts: Required<PipelineOptions>;

  constructor(private readonly split: Split, opts: PipelineOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new Error(`batch size must be a positive integer, got ${opts.batchSize}`);
    this.opts = { dropLast: false, prefetch: 2, ...opts };
    const n = split.count;
    this.batchesPerEpoch = this.opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
  }

  /** The order in which epoch `epoch` visits the images. */
  order(epoch: number): Uint32Array {
    const order = new Uint32Array(this.split.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.opts.shuffle) new Rng(mixSeed(this.opts.seed, epoch, 0x0dde4)).shuffle(order);
    return order;
  }

  /** Builds batch `index` of an epoch from that epoch's order. */
  batch(epoch: number, index: number, order: Uint32Array = this.order(epoch)): Batch {
    const { batchSize, augment, flip, seed } = this.opts;
    const start = index * batchSize;
    const size = Math.min(batchSize, this.split.count - start);
    if (index < 0 || index >= this.batchesPerEpoch || size <= 0) throw new Error(`batch ${index} is outside the epoch's ${this.batchesPerEpoch} batches`);
    const x = new Float32Array(size * IMAGE_VALUES);
    const y = new Int32Array(size);
    const rng = new Rng(mixSeed(seed, epoch, index));
    for (let i = 0; i < size; i++) {
      const src = order[start + i];
      y[i] = this.split.labels[src];
      const aug = augment ? { dx: rng.int(2 * PAD + 1), dy: rng.int(2 * PAD + 1), flip: flip && rng.next() < 0.5 } : IDENTITY;
      writeAugmented(this.split.images, src, x, i * IMAGE_VALUES, aug);
    }
    return { x, y, size };
  }

  /**
   * The batches of epoch `epoch` (0-based). The next batches are built in the event loop's idle
   * moments while the consumer awaits its own work, so a batch is usually ready when asked for.
   */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const ahead: Promise<Batch>[] = [];
    let next = 0;
    const fill = () => {
      while (ahead.length < this.opts.prefetch && next < this.batchesPerEpoch) {
        const index = next++;
        ahead.push(new Promise((resolve, reject) => setImmediate(() => {
          try {
            resolve(this.batch(epoch, index, order));
          } catch (err) {
            reject(err);
          }
        })));
      }
    };
    fill();
    while (ahead.length > 0) {
      const batch = await ahead.shift()!;
      fill();
      yield batch;
    }
  }
}

/**
 * Splits a training set into training and validation parts, stratified by class and deterministic
 * for the seed. The parts are copies; `fraction` of each class (rounded) goes to validation.
 */
export function splitValidation(split: Split, fraction: number, seed: number): { train: Split; validation: Split } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`validation fraction must be between 0 and 1, got ${fraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < split.count; i++) {
    const c = split.labels[i];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const rng = new Rng(mixSeed(seed, 0x7a11d));
  const isVal = new Uint8Array(split.count);
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byClass.get(c)!);
    const take = Math.round(idx.length * fraction);
    for (let k = 0; k < take; k++) isVal[idx[k]] = 1;
  }
  const pick = (want: number): Split => {
    let count = 0;
    for (let i = 0; i < split.count; i++) if (isVal[i] === want) count++;
    const images = new Uint8Array(count * IMAGE_VALUES);
    const labels = new Uint8Array(count);
    let j = 0;
    for (let i = 0; i < split.count; i++) {
      if (isVal[i] !== want) continue;
      images.set(split.images.subarray(i * IMAGE_VALUES, (i + 1) * IMAGE_VALUES), j * IMAGE_VALUES);
      labels[j++] = split.labels[i];
    }
    return { images, labels, count };
  };
  return { train: pick(0), validation: pick(1) };
}
