// Conv2DBackpropInput for the wasm backend. The built-in kernel is a scalar C++ loop (~2 GFLOP/s,
// a tenth of the forward convolution); here dx is computed with XNNPACK convolutions instead.
//
// Sub-pixel decomposition: for stride s, the rows of dx with i ≡ a (mod s) only receive the filter
// taps k ≡ (a + padTop) (mod s). Each of the s×s phases is therefore an ordinary stride-1
// convolution of dy with a reversed, transposed sub-filter; no multiply-by-zero work is done.
// Concatenating the column phases along channels and the row phases along width, then reshaping,
// interleaves them into dx without any transpose.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withScope, type KernelScope } from './kernel-scope';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';

type Info = tf.backend_util.Conv2DInfo;

/** Taps of one phase along one spatial axis and how dy must be padded (or cropped) for it. */
interface AxisPhase {
  /** First filter tap of the phase (taps are first, first + s, …). */
  first: number;
  taps: number;
  padBefore: number;
  padAfter: number;
  cropBefore: number;
  cropAfter: number;
}

/**
 * Phase `a` along an axis of input size n, output size m, filter size k, stride s, padding
 * `before`: dx[q·s + a] = Σ_t dy[q + c − t] · w[r + s·t] with r = (a + before) mod s and
 * c = ⌊(a + before) / s⌋, computed for q < ⌈n / s⌉.
 */
function axisPhase(a: number, n: number, m: number, k: number, s: number, before: number): AxisPhase | null {
  const r = (a + before) % s;
  const c = Math.floor((a + before) / s);
  if (r >= k) return null;
  const taps = Math.ceil((k - r) / s);
  const rows = Math.ceil(n / s);
  // As a correlation with the reversed taps: output q reads dy[q + u − (taps − 1 − c)].
  const padBeforeRaw = taps - 1 - c;
  const cropBefore = Math.max(-padBeforeRaw, 0);
  const padBefore = Math.max(padBeforeRaw, 0);
  const padAfterRaw = rows + taps - 1 - (m - cropBefore) - padBefore;
  const cropAfter = Math.max(-padAfterRaw, 0);
  if (m - cropBefore - cropAfter <= 0) return null;
  return { first: r, taps, padBefore, padAfter: Math.max(padAfterRaw, 0), cropBefore, cropAfter };
}

/** Sub-filter [th, tw, Co, Ci] of a phase: taps reversed, in/out channels swapped. */
function subFilter(w: Float32Array, info: Info, ph: AxisPhase, pw: AxisPhase): Float32Array {
  const { filterWidth: kw, inChannels: ci, outChannels: co, strideHeight: sh, strideWidth: sw } = info;
  const out = new Float32Array(ph.taps * pw.taps * co * ci);
  let o = 0;
  for (let u = 0; u < ph.taps; u++) {
    const kh = ph.first + sh * (ph.taps - 1 - u);
    for (let v = 0; v < pw.taps; v++) {
      const kwi = pw.first + sw * (pw.taps - 1 - v);
      const base = (kh * kw + kwi) * ci * co;
      for (let j = 0; j < co; j++) {
        for (let i = 0; i < ci; i++) out[o++] = w[base + i * co + j];
      }
    }
  }
  return out;
}

function phaseOutput(s: KernelScope, dy: tf.TensorInfo, w: Float32Array, info: Info, ph: AxisPhase | null, pw: AxisPhase | null): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const rows = Math.ceil(inHeight / info.strideHeight);
  const cols = Math.ceil(inWidth / info.strideWidth);
  if (!ph || !pw) return s.tensor([batchSize, rows, cols, inChannels], new Float32Array(batchSize * rows * cols * inChannels));
  let src = dy;
  if (ph.cropBefore || ph.cropAfter || pw.cropBefore || pw.cropAfter) {
    src = s.run('Slice', { x: dy }, {
      begin: [0, ph.cropBefore, pw.cropBefore, 0],
      size: [batchSize, outHeight - ph.cropBefore - ph.cropAfter, outWidth - pw.cropBefore - pw.cropAfter, outChannels],
    });
  }
  const filter = s.tensor([ph.taps, pw.taps, outChannels, inChannels], subFilter(w, info, ph, pw));
  return s.run('Conv2D', { x: src, filter }, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [[0, 0], [ph.padBefore, ph.padAfter], [pw.padBefore, pw.padAfter], [0, 0]],
    dataFormat: 'NHWC',
  });
}

function inputGradPhases(s: KernelScope, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Info): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight: sh, strideWidth: sw, filterHeight, filterWidth, padInfo } = info;
  const w = s.backend.readSync(filter.dataId) as Float32Array;
  const rows = Math.ceil(inHeight / sh);
  const cols = Math.ceil(inWidth / sw);
  const rowPhases: tf.TensorInfo[] = [];
  for (let a = 0; a < sh; a++) {
    const ph = axisPhase(a, inHeight, outHeight, filterHeight, sh, padInfo.top);
    const colPhases: tf.TensorInfo[] = [];
    for (let b = 0; b < sw; b++) {
      colPhases.push(phaseOutput(s, dy, w, info, ph, axisPhase(b, inWidth, outWidth, filterWidth, sw, padInfo.left)));
    }
    const merged = colPhases.length === 1 ? colPhases[0] : s.run('Concat', colPhases, { axis: 3 });
    rowPhases.push(s.run('Reshape', { x: merged }, { shape: [batchSize, rows, cols * sw, inChannels] }));
  }
  const all = rowPhases.length === 1 ? rowPhases[0] : s.run('Concat', rowPhases, { axis: 2 });
  const dx = s.run('Reshape', { x: all }, { shape: [batchSize, rows * sh, cols * sw, inChannels] });
  if (rows * sh === inHeight && cols * sw === inWidth) return dx;
  return s.run('Slice', { x: dx }, { begin: [0, 0, 0, 0], size: [batchSize, inHeight, inWidth, inChannels] });
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = attrsOf<tf.Conv2DBackpropInputAttrs>(args.attrs);
  if (attrs.dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropInput supports only NHWC, got ${attrs.dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  return withScope(args.backend as BackendWasm, (s) => inputGradPhases(s, dy, filter, info));
}

/** A whole kernel of our own: it replaces wasm's scalar built-in. */
export const conv2DBackpropInputKernel: KernelOverride = { kernelName: tf.Conv2DBackpropInput, make: () => conv2DBackpropInput };
