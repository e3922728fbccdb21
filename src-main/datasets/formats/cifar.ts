// The CIFAR binary record layouts: CIFAR-10 is <label byte><3072 pixel bytes>, CIFAR-100 is
// <coarse label><fine label><3072 pixel bytes>; pixels are the red, green and blue 32x32 planes,
// each row-major. Images are stored HWC in the app, so planes are interleaved on the way in.
import type { Split } from '../types';

const CIFAR_PIXELS = 3072;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export class CifarFormatError extends Error {}

export interface RecordLayout {
  /** Label bytes before the pixels (1 for CIFAR-10, 2 for CIFAR-100). */
  labelBytes: number;
  /** Which of the label bytes is the label to keep. */
  labelIndex: number;
  /** Number of classes: labels must be below it. */
  classes: number;
}

const recordSize = (layout: RecordLayout) => layout.labelBytes + CIFAR_PIXELS;

/** Converts planar CHW pixels at src[offset…] into HWC at dst[dstOffset…]. */
function planarToHwc(src: Uint8Array, offset: number, dst: Uint8Array, dstOffset: number): void {
  for (let p = 0; p < 1024; p++) {
    const o = dstOffset + p * 3;
    dst[o] = src[offset + p];
    dst[o + 1] = src[offset + 1024 + p];
    dst[o + 2] = src[offset + 2048 + p];
  }
}

/** Checks that `bytes` is a whole, non-empty number of records; returns how many. */
export function recordCount(bytes: number, layout: RecordLayout): number {
  const size = recordSize(layout);
  if (bytes === 0) throw new CifarFormatError('is empty');
  if (bytes % size !== 0) {
    throw new CifarFormatError(`is ${bytes} bytes, not a whole number of ${size}-byte records (truncated, or not in the ` +
      `CIFAR-${layout.labelBytes === 1 ? '10' : '100'} binary layout); ${Math.floor(bytes / size)} complete records and ${bytes % size} bytes left over`);
  }
  return bytes / size;
}

/** Parses the records of several buffers (e.g. data_batch_1..5) into one split. */
export function parseRecords(parts: Array<{ file: string; data: Uint8Array }>, layout: RecordLayout): Split {
  const counts = parts.map((p) => {
    try {
      return recordCount(p.data.length, layout);
    } catch (err) {
      throw new CifarFormatError(`${p.file} ${(err as Error).message}`);
    }
  });
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const size = recordSize(layout);
  let i = 0;
  parts.forEach((part, k) => {
    for (let r = 0; r < counts[k]; r++, i++) {
      const off = r * size;
      const label = part.data[off + layout.labelIndex];
      if (label >= layout.classes) {
        throw new CifarFormatError(`${part.file}: record ${r + 1} has label ${label}, outside 0–${layout.classes - 1} (not a ` +
          `CIFAR-${layout.labelBytes === 1 ? '10' : '100'} file, or damaged)`);
      }
      labels[i] = label;
      planarToHwc(part.data, off + layout.labelBytes, images, i * CIFAR_PIXELS);
    }
  });
  return { images, labels, count };
}

/** Class names from a CIFAR *.txt label-name file: one per line, blank lines ignored. */
export function parseLabelNames(file: string, text: string, expected: number): string[] {
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== expected) throw new CifarFormatError(`${file} lists ${names.length} class names, ${expected} were expected`);
  return names;
}
