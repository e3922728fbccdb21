// Sum and Mean over the leading axes (per-channel statistics of NHWC tensors: batch norm and its
// gradient). The built-in kernels first transpose the whole tensor so the reduced axes come last;
// summing rows of the [rows, channels] view directly reads it once.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attrsOf, type KernelOverride } from './override';

/** Number of leading axes reduced, or 0 when `axes` are not exactly 0..k-1 with k < rank. */
function leadingAxes(axis: number | number[], shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function columnSums(backend: BackendWasm, x: tf.TensorInfo, k: number, keepDims: boolean, scale: number): tf.TensorInfo {
  const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
  const cols = tf.util.sizeFromShape(x.shape.slice(k));
  const outShape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
  const out = backend.makeOutput(outShape, 'float32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, o++) acc[c] += src[o];
  }
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let c = 0; c < cols; c++) dst[c] = acc[c] * scale;
  return out;
}

function reduceOverride(kernelName: string, mean: boolean): KernelOverride {
  return {
    kernelName,
    make: (builtin) => (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = attrsOf<tf.SumAttrs>(args.attrs);
      const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : 0;
      if (k === 0) return builtin(args);
      const scale = mean ? 1 / tf.util.sizeFromShape(x.shape.slice(0, k)) : 1;
      return columnSums(args.backend as BackendWasm, x, k, keepDims, scale);
    },
  };
}

export const sumOverride = reduceOverride(tf.Sum, false);
export const meanOverride = reduceOverride(tf.Mean, true);
