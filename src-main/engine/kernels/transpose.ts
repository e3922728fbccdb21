// Transpose for wasm. The built-in walks the output in order and gathers each element with a
// stride, so transposing a tall matrix ([B·H·W, C] with C of 6–128, as the filter gradients do) reads
// a new cache line per element: 3–50 ms per call on MSDNet's feature maps, about a twentieth of a
// training step. This one merges axes that stay together, then copies 32x32 tiles, so both sides
// of a tile stay in cache (2.5-6x on those shapes); it leaves the built-in the cases it does well.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';

type Heap = Float32Array | Int32Array | Uint8Array;

const TILE = 32;

/**
 * The same permutation on fewer axes: size-1 axes dropped, and input axes that are neighbours in
 * the output order too merged into one.
 */
export function coalescePermutation(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((p) => shape[p] !== 1);
  // Runs of consecutive input axes, in output order.
  const runs: number[][] = [];
  for (const p of kept) {
    const run = runs[runs.length - 1];
    if (run && run[run.length - 1] + 1 === p) run.push(p);
    else runs.push([p]);
  }
  const byInput = [...runs].sort((a, b) => a[0] - b[0]);
  return {
    shape: byInput.map((run) => run.reduce((n, p) => n * shape[p], 1)),
    perm: runs.map((run) => byInput.indexOf(run)),
  };
}

function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let n = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = n;
    n *= shape[i];
  }
  return s;
}

/** dst[j·dstStride + l] = src[j + l·srcStride] for j < rows, l < cols, tile by tile. */
function transposeTile2d(src: Heap, srcBase: number, srcStride: number, dst: Heap, dstBase: number, dstStride: number, rows: number, cols: number): void {
  for (let j0 = 0; j0 < rows; j0 += TILE) {
    const j1 = Math.min(rows, j0 + TILE);
    for (let l0 = 0; l0 < cols; l0 += TILE) {
      const l1 = Math.min(cols, l0 + TILE);
      for (let j = j0; j < j1; j++) {
        const d = dstBase + j * dstStride;
        let s = srcBase + j + l0 * srcStride;
        for (let l = l0; l < l1; l++, s += srcStride) dst[d + l] = src[s];
      }
    }
  }
}

/**
 * The tiled copy for `perm` of `shape`, or null where the built-in is as fast: when the input's
 * last axis stays last (contiguous rows, which it copies whole) or a tile side is under 8 (a 6-channel
 * map, where tiles are all edge).
 */
export function planTranspose(inShape: number[], inPerm: number[]): ((src: Heap, dst: Heap) => void) | null {
  const { shape, perm } = coalescePermutation(inShape, inPerm);
  const r = shape.length;
  if (r < 2) return null;
  const last = r - 1;
  // The output axis that reads the input contiguously: the tiles' rows.
  const j = perm.indexOf(last);
  if (j === last) return null;
  const outShape = perm.map((p) => shape[p]);
  const rows = outShape[j];
  const cols = outShape[last];
  if (rows < 8 || cols < 8) return null;
  const inStrides = stridesOf(shape);
  const outStrides = stridesOf(outShape);
  const srcStride = inStrides[perm[last]];
  const dstStride = outStrides[j];
  const others = outShape.map((_, k) => k).filter((k) => k !== j && k !== last);
  const sizes = others.map((k) => outShape[k]);
  const srcSteps = others.map((k) => inStrides[perm[k]]);
  const dstSteps = others.map((k) => outStrides[k]);
  return (src, dst) => {
    const index = new Array<number>(others.length).fill(0);
    let srcBase = 0;
    let dstBase = 0;
    for (;;) {
      transposeTile2d(src, srcBase, srcStride, dst, dstBase, dstStride, rows, cols);
      let i = others.length - 1;
      for (; i >= 0; i--) {
        srcBase += srcSteps[i];
        dstBase += dstSteps[i];
        if (++index[i] < sizes[i]) break;
        srcBase -= srcSteps[i] * sizes[i];
        dstBase -= dstSteps[i] * sizes[i];
        index[i] = 0;
      }
      if (i < 0) return;
    }
  };
}

export const transposeOverride: KernelOverride = {
  kernelName: tf.Transpose,
  make: (builtin) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return builtin(args);
    const backend = args.backend as BackendWasm;
    const { perm } = attrsOf<tf.TransposeAttrs>(args.attrs);
    const plan = planTranspose(x.shape, perm);
    if (!plan) return builtin(args);
    const out = backend.makeOutput(perm.map((p) => x.shape[p]), x.dtype);
    // Views only after makeOutput: allocating can grow (and detach) the heap.
    plan(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out));
    return out;
  },
};
