// Training-mode batch norm over the channels of an NHWC tensor as two wasm kernels, each two passes
// over the activations: statistics then normalisation, and Σdy, Σdy·x then dx. Built from tf ops
// the same computation takes nine passes (mean, sub, square, mean, normalise; sum, mul, sum and a
// three-term dx), each through its own kernel. The op in model/lean-layers.ts uses these where they
// are registered and tf ops elsewhere. Sums accumulate in float64.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelOverride } from './override';

export const BN_TRAINING = 'ExitLabBatchNormTraining';
export const BN_TRAINING_GRAD = 'ExitLabBatchNormTrainingGrad';

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

const channelsOf = (x: tf.TensorInfo) => x.shape[x.shape.length - 1];

/** inputs x, scale, offset; attrs epsilon → [y, mean, variance] (biased batch variance). */
function batchNormTraining(args: Args): tf.TensorInfo[] {
  const { x, scale, offset } = args.inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; offset: tf.TensorInfo };
  const { epsilon } = args.attrs as { epsilon: number };
  const backend = args.backend as BackendWasm;
  const c = channelsOf(x);
  const size = tf.util.sizeFromShape(x.shape);
  const n = size / c;
  const y = backend.makeOutput(x.shape, 'float32');
  const meanOut = backend.makeOutput([c], 'float32');
  const varOut = backend.makeOutput([c], 'float32');
  // Views only after every makeOutput: allocating can grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let o = 0; o < size; o += c) {
    for (let k = 0; k < c; k++) {
      const v = src[o + k];
      sum[k] += v;
      sumSq[k] += v * v;
    }
  }
  const gamma = backend.typedArrayFromHeap(scale) as Float32Array;
  const beta = backend.typedArrayFromHeap(offset) as Float32Array;
  const mean = backend.typedArrayFromHeap(meanOut) as Float32Array;
  const variance = backend.typedArrayFromHeap(varOut) as Float32Array;
  const mul = new Float32Array(c);
  const add = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const m = sum[k] / n;
    const v = Math.max(sumSq[k] / n - m * m, 0);
    mean[k] = m;
    variance[k] = v;
    mul[k] = gamma[k] / Math.sqrt(v + epsilon);
    add[k] = beta[k] - m * mul[k];
  }
  const dst = backend.typedArrayFromHeap(y) as Float32Array;
  for (let o = 0; o < size; o += c) {
    for (let k = 0; k < c; k++) dst[o + k] = src[o + k] * mul[k] + add[k];
  }
  return [y, meanOut, varOut];
}

/**
 * inputs dy, x, mean, variance, scale; attrs epsilon → [dx, dscale, doffset], with
 * dx = γr·(dy − Σdy/n − (x−μ)·r²·Σdy·(x−μ)/n), r = 1/√(σ² + ε).
 */
function batchNormTrainingGrad(args: Args): tf.TensorInfo[] {
  const inputs = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo; variance: tf.TensorInfo; scale: tf.TensorInfo };
  const { epsilon } = args.attrs as { epsilon: number };
  const backend = args.backend as BackendWasm;
  const c = channelsOf(inputs.x);
  const size = tf.util.sizeFromShape(inputs.x.shape);
  const n = size / c;
  const dxOut = backend.makeOutput(inputs.x.shape, 'float32');
  const dScaleOut = backend.makeOutput([c], 'float32');
  const dOffsetOut = backend.makeOutput([c], 'float32');
  const [dy, x, mean, variance, gamma] = [inputs.dy, inputs.x, inputs.mean, inputs.variance, inputs.scale].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  for (let o = 0; o < size; o += c) {
    for (let k = 0; k < c; k++) {
      const g = dy[o + k];
      sumDy[k] += g;
      sumDyX[k] += g * x[o + k];
    }
  }
  const dScale = backend.typedArrayFromHeap(dScaleOut) as Float32Array;
  const dOffset = backend.typedArrayFromHeap(dOffsetOut) as Float32Array;
  const a = new Float32Array(c);
  const b = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const r = 1 / Math.sqrt(variance[k] + epsilon);
    const sumDyXc = sumDyX[k] - mean[k] * sumDy[k];
    a[k] = gamma[k] * r;
    b[k] = (-a[k] * r * r * sumDyXc) / n;
    shift[k] = (-a[k] * sumDy[k]) / n - mean[k] * b[k];
    dScale[k] = sumDyXc * r;
    dOffset[k] = sumDy[k];
  }
  const dx = backend.typedArrayFromHeap(dxOut) as Float32Array;
  for (let o = 0; o < size; o += c) {
    for (let k = 0; k < c; k++) dx[o + k] = dy[o + k] * a[k] + x[o + k] * b[k] + shift[k];
  }
  return [dxOut, dScaleOut, dOffsetOut];
}

const newKernel = (kernelName: string, fn: (args: Args) => tf.TensorInfo[]): KernelOverride => ({ kernelName, make: () => fn as never });

export const batchNormTrainingKernel = newKernel(BN_TRAINING, batchNormTraining);
export const batchNormTrainingGradKernel = newKernel(BN_TRAINING_GRAD, batchNormTrainingGrad);
