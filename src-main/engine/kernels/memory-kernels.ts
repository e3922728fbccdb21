// Data-movement kernels for wasm. The built-in ones copy where nothing needs copying (Identity and
// same-dtype Cast copy whole tensors; the gradient tape clones every tensor it saves), and
// Concat/SplitV along the channel axis copy row by row through a new subarray per row, slow for the
// short rows of NHWC feature maps. Tensors are immutable in tfjs (a Variable's assign swaps its
// data id), so sharing a buffer with a reference count is safe, as the cpu backend does.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';

type Heap = Float32Array | Int32Array | Uint8Array;

function share(backend: BackendWasm, x: tf.TensorInfo, shape = x.shape): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** Copies `rows` rows of `width` elements between strided positions of heap views. */
function copyRows(src: Heap, srcStart: number, srcStride: number, dst: Heap, dstStart: number, dstStride: number, rows: number, width: number): void {
  if (width >= 64) {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(srcStart + r * srcStride, srcStart + r * srcStride + width), dstStart + r * dstStride);
    return;
  }
  // Four elements per iteration: rows of a few channels are mostly loop overhead otherwise (2x).
  const width4 = width & ~3;
  for (let r = 0; r < rows; r++) {
    const s = srcStart + r * srcStride;
    const d = dstStart + r * dstStride;
    let k = 0;
    for (; k < width4; k += 4) {
      dst[d + k] = src[s + k];
      dst[d + k + 1] = src[s + k + 1];
      dst[d + k + 2] = src[s + k + 2];
      dst[d + k + 3] = src[s + k + 3];
    }
    for (; k < width; k++) dst[d + k] = src[s + k];
  }
}

export const identityOverride: KernelOverride = {
  kernelName: tf.Identity,
  make: () => (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    return share(args.backend as BackendWasm, x);
  },
};

export const castOverride: KernelOverride = {
  kernelName: tf.Cast,
  make: (builtin) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (attrsOf<tf.CastAttrs>(args.attrs).dtype === x.dtype) return share(args.backend as BackendWasm, x);
    return builtin(args);
  },
};

export const concatOverride: KernelOverride = {
  kernelName: tf.Concat,
  make: (builtin) => (args: KernelArgs) => {
    const inputs = args.inputs as tf.TensorInfo[];
    const backend = args.backend as BackendWasm;
    if (inputs[0].dtype === 'string' || inputs[0].dtype === 'complex64') return builtin(args);
    const axis = tf.util.parseAxisParam(attrsOf<tf.ConcatAttrs>(args.attrs).axis, inputs[0].shape)[0];
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    if (parts.length === 1) return share(backend, parts[0], outShape);
    const out = backend.makeOutput(outShape, inputs[0].dtype);
    if (parts.length === 0) return out;
    const rows = tf.util.sizeFromShape(outShape.slice(0, axis));
    const outWidth = tf.util.sizeFromShape(outShape.slice(axis));
    // Views only after makeOutput: allocating can grow (and detach) the heap.
    const dst = backend.typedArrayFromHeap(out);
    let offset = 0;
    for (const p of parts) {
      const width = tf.util.sizeFromShape(p.shape.slice(axis));
      copyRows(backend.typedArrayFromHeap(p), 0, width, dst, offset, outWidth, rows, width);
      offset += width;
    }
    return out;
  },
};

export const splitVOverride: KernelOverride = {
  kernelName: tf.SplitV,
  make: (builtin) => (args: KernelArgs) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const backend = args.backend as BackendWasm;
    if (x.dtype === 'string' || x.dtype === 'complex64') return builtin(args);
    const attrs = attrsOf<tf.SplitVAttrs>(args.attrs);
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    const outs = sizes.map((size) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? size : d)), x.dtype));
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const inWidth = x.shape[axis] * inner;
    const src = backend.typedArrayFromHeap(x);
    let offset = 0;
    outs.forEach((out, i) => {
      const width = sizes[i] * inner;
      copyRows(src, offset, inWidth, backend.typedArrayFromHeap(out), 0, width, rows, width);
      offset += width;
    });
    return outs;
  },
};
