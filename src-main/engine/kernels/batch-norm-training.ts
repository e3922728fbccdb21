// Training-mode batch norm over the channels of an NHWC tensor as two wasm kernels, each two passes
// over the activations: statistics then normalisation, and Σdy, Σdy·x then dx. Built from tf ops
// the same computation takes nine passes (mean, sub, square, mean, normalise; sum, mul, sum and a
// three-term dx), each through its own kernel. The op in model/lean-layers.ts uses these where they
// are registered and tf ops elsewhere. Sums accumulate in float64.
//
// The loops walk blocks of rows four channels at a time, so the running values of a channel stay in
// registers instead of a per-channel array: about twice as fast as a plain row-by-row loop in V8.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs, KernelOverride } from './override';

export const BN_TRAINING = 'ExitLabBatchNormTraining';
export const BN_TRAINING_GRAD = 'ExitLabBatchNormTrainingGrad';

const channelsOf = (x: tf.TensorInfo) => x.shape[x.shape.length - 1];

/** Rows per block: a block of the widest tensors (256 channels) stays in L2. */
const BLOCK = 512;

/** Per channel k of [rows, c] data: sumA[k] += Σ a, sumAB[k] += Σ a·b. */
function channelSums(a: Float32Array, b: Float32Array, c: number, sumA: Float64Array, sumAB: Float64Array): void {
  const size = a.length;
  for (let start = 0; start < size; start += BLOCK * c) {
    const end = Math.min(size, start + BLOCK * c);
    let k = 0;
    for (; k + 4 <= c; k += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
      for (let i = start + k; i < end; i += c) {
        const a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
        s0 += a0; s1 += a1; s2 += a2; s3 += a3;
        p0 += a0 * b[i]; p1 += a1 * b[i + 1]; p2 += a2 * b[i + 2]; p3 += a3 * b[i + 3];
      }
      sumA[k] += s0; sumA[k + 1] += s1; sumA[k + 2] += s2; sumA[k + 3] += s3;
      sumAB[k] += p0; sumAB[k + 1] += p1; sumAB[k + 2] += p2; sumAB[k + 3] += p3;
    }
    for (; k < c; k++) {
      let sa = 0, sab = 0;
      for (let i = start + k; i < end; i += c) {
        sa += a[i];
        sab += a[i] * b[i];
      }
      sumA[k] += sa;
      sumAB[k] += sab;
    }
  }
}

/** out = a·ma[k] + b·mb[k] + add[k] per channel k of [rows, c] data. */
function channelAffine(out: Float32Array, a: Float32Array, ma: Float32Array, b: Float32Array, mb: Float32Array, add: Float32Array, c: number): void {
  const size = a.length;
  for (let start = 0; start < size; start += BLOCK * c) {
    const end = Math.min(size, start + BLOCK * c);
    let k = 0;
    for (; k + 4 <= c; k += 4) {
      const x0 = ma[k], x1 = ma[k + 1], x2 = ma[k + 2], x3 = ma[k + 3];
      const y0 = mb[k], y1 = mb[k + 1], y2 = mb[k + 2], y3 = mb[k + 3];
      const z0 = add[k], z1 = add[k + 1], z2 = add[k + 2], z3 = add[k + 3];
      for (let i = start + k; i < end; i += c) {
        out[i] = a[i] * x0 + b[i] * y0 + z0;
        out[i + 1] = a[i + 1] * x1 + b[i + 1] * y1 + z1;
        out[i + 2] = a[i + 2] * x2 + b[i + 2] * y2 + z2;
        out[i + 3] = a[i + 3] * x3 + b[i + 3] * y3 + z3;
      }
    }
    for (; k < c; k++) {
      const x = ma[k], y = mb[k], z = add[k];
      for (let i = start + k; i < end; i += c) out[i] = a[i] * x + b[i] * y + z;
    }
  }
}

/** inputs x, scale, offset; attrs epsilon → [y, mean, variance] (biased batch variance). */
function batchNormTraining(args: KernelArgs): tf.TensorInfo[] {
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
  channelSums(src, src, c, sum, sumSq);
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
  channelAffine(backend.typedArrayFromHeap(y) as Float32Array, src, mul, src, new Float32Array(c), add, c);
  return [y, meanOut, varOut];
}

/**
 * inputs dy, x, mean, variance, scale; attrs epsilon → [dx, dscale, doffset], with
 * dx = γr·(dy − Σdy/n − (x−μ)·r²·Σdy·(x−μ)/n), r = 1/√(σ² + ε).
 */
function batchNormTrainingGrad(args: KernelArgs): tf.TensorInfo[] {
  const inputs = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo; variance: tf.TensorInfo; scale: tf.TensorInfo };
  const { epsilon } = args.attrs as { epsilon: number };
  const backend = args.backend as BackendWasm;
  const c = channelsOf(inputs.x);
  const size = tf.util.sizeFromShape(inputs.x.shape);
  const n = size / c;
  const dxOut = backend.makeOutput(inputs.x.shape, 'float32');
  const dScaleOut = backend.makeOutput([c], 'float32');
  const dOffsetOut = backend.makeOutput([c], 'float32');
  const [dy, x, mean, variance, gamma] = [inputs.dy, inputs.x, inputs.mean, inputs.variance, inputs.scale]
    .map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  channelSums(dy, x, c, sumDy, sumDyX);
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
  channelAffine(backend.typedArrayFromHeap(dxOut) as Float32Array, dy, a, x, b, shift, c);
  return [dxOut, dScaleOut, dOffsetOut];
}

export const batchNormTrainingKernel: KernelOverride = { kernelName: BN_TRAINING, make: () => batchNormTraining };
export const batchNormTrainingGradKernel: KernelOverride = { kernelName: BN_TRAINING_GRAD, make: () => batchNormTrainingGrad };
