// Conv2DBackpropFilter for the wasm backend, which ships without it (so conv nets cannot train
// there). Built only from wasm kernels that XNNPACK accelerates.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { withScope, type KernelScope } from './kernel-scope';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';

type Info = tf.backend_util.Conv2DInfo;

function convInfoOf(x: tf.TensorInfo, attrs: tf.Conv2DBackpropFilterAttrs): Info {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter supports only NHWC, got ${attrs.dataFormat}`);
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
}

/**
 * Padding that makes x exactly the region the forward pass read, (OH-1)·stride + KH rows: the
 * dilated convolution's output is then exactly KH x KW. `valid` convolutions can leave trailing
 * rows unread, which shows as negative padding.
 */
function exactPadding(info: Info): { top: number; bottom: number; left: number; right: number } {
  const { padInfo, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  return {
    top: padInfo.top,
    left: padInfo.left,
    bottom: (outHeight - 1) * strideHeight + filterHeight - inHeight - padInfo.top,
    right: (outWidth - 1) * strideWidth + filterWidth - inWidth - padInfo.left,
  };
}

/** Crops trailing rows/columns the forward pass never read; returns the remaining (non-negative) padding. */
function cropUnread(s: KernelScope, x: tf.TensorInfo, info: Info) {
  const p = exactPadding(info);
  if (p.bottom >= 0 && p.right >= 0) return { x, ...p };
  const [b, h, w, c] = x.shape;
  const size = [b, h + Math.min(p.bottom, 0), w + Math.min(p.right, 0), c];
  const cropped = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size });
  return { x: cropped, ...p, bottom: Math.max(p.bottom, 0), right: Math.max(p.right, 0) };
}

/**
 * dW as a dilated convolution: x as [Ci, H, W, B] convolved with dy as [OH, OW, B, Co], stride 1,
 * dilation = the forward stride, gives [Ci, KH, KW, Co].
 */
function filterGradDilated(s: KernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, info: Info): tf.TensorInfo {
  const c = cropUnread(s, x, info);
  const xT = s.run('Transpose', { x: c.x }, { perm: [3, 1, 2, 0] });
  const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const g = s.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    dilations: [info.strideHeight, info.strideWidth],
    pad: [[0, 0], [c.top, c.bottom], [c.left, c.right], [0, 0]],
    dataFormat: 'NHWC',
  });
  return s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
}

/** Width ratio from which packing the narrower operand wins (measured: ×2.6 at 52:6, ×1.3 at 48:12, even at 2:1). */
const PACK_NARROW_RATIO = 3;

/**
 * 1x1 stride-1 convolutions: dW = Xᵀ·dY over the B·H·W pixels, a single GEMM. Both MatMul inputs
 * must be plain row-major matrices (the case wasm hands to XNNPACK; a transposed MatMul falls back
 * to a scalar loop), so one operand is transposed first. XNNPACK packs the right operand anew for
 * every call, about five times the cost per element of our transpose (80 ms for a 65536x52 operand
 * against 12 ms): the wider operand is packed only when the other is nearly as wide, where
 * transposing the narrower one measured as fast or faster.
 */
function filterGradPointwise(s: KernelScope, x: tf.TensorInfo, dy: tf.TensorInfo, info: Info): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outChannels } = info;
  const m = batchSize * inHeight * inWidth;
  const xMat = s.run('Reshape', { x }, { shape: [m, inChannels] });
  const dyMat = s.run('Reshape', { x: dy }, { shape: [m, outChannels] });
  const packDy = inChannels >= PACK_NARROW_RATIO * outChannels || (inChannels <= outChannels && outChannels < PACK_NARROW_RATIO * inChannels);
  if (packDy) {
    const xT = s.run('Transpose', { x: xMat }, { perm: [1, 0] });
    const g = s.run('BatchMatMul', { a: xT, b: dyMat }, { transposeA: false, transposeB: false });
    return s.run('Reshape', { x: g }, { shape: [1, 1, inChannels, outChannels] });
  }
  const dyT = s.run('Transpose', { x: dyMat }, { perm: [1, 0] });
  const gT = s.run('BatchMatMul', { a: dyT, b: xMat }, { transposeA: false, transposeB: false });
  const g = s.run('Transpose', { x: gT }, { perm: [1, 0] });
  return s.run('Reshape', { x: g }, { shape: [1, 1, inChannels, outChannels] });
}

function isPointwise(info: Info): boolean {
  const p = info.padInfo;
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 && !p.top && !p.bottom && !p.left && !p.right;
}

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = attrsOf<tf.Conv2DBackpropFilterAttrs>(args.attrs);
  const info = convInfoOf(x, attrs);
  return withScope(args.backend as BackendWasm, (s) => (isPointwise(info) ? filterGradPointwise(s, x, dy, info) : filterGradDilated(s, x, dy, info)));
}

/** A whole kernel of our own: it replaces wasm's built-in (there is none today). */
export const conv2DBackpropFilterKernel: KernelOverride = { kernelName: tf.Conv2DBackpropFilter, make: () => conv2DBackpropFilter };
