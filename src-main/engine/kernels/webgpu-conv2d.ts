// Conv2D for webgpu on a software adapter, as a direct convolution: one invocation per output
// element, no workgroup memory. tfjs's own kernel is a tiled matrix product with workgroup
// barriers, which SwiftShader runs slowly: in one fgsm-me step of a 3-block, 8-channel MSDNet at
// batch 8, Conv2D's 136 calls took 21.4 s with tfjs's kernel and 3.6 s with this one (tf.profile).
// On a hardware adapter the built-in tiled kernel runs.
import * as tf from '@tensorflow/tfjs';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';
import { convConstants, nhwcCoords, runFlatProgram } from './webgpu-program';

type ConvAttrs = Pick<tf.Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'> & { dilations?: tf.Conv2DAttrs['dilations'] };

/** The convolutions the direct kernels handle (the engine's); the built-in takes the rest. */
export function directConvInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo | null {
  if (attrs.dataFormat !== 'NHWC') return null;
  const dilations = attrs.dilations ?? 1;
  const shape4 = (s: number[]) => s as [number, number, number, number];
  const { strides, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(shape4(xShape), shape4(filterShape), strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
}

const BODY = `${nhwcCoords(['b', 'oy', 'ox', 'co'], ['OUT_H', 'OUT_W', 'OUT_C'])}
  var acc = 0.0;
  for (var ky = 0; ky < K_H; ky++) {
    let iy = oy * STRIDE_H + ky * DIL_H - PAD_TOP;
    if (iy < 0 || iy >= IN_H) { continue; }
    for (var kx = 0; kx < K_W; kx++) {
      let ix = ox * STRIDE_W + kx * DIL_W - PAD_LEFT;
      if (ix < 0 || ix >= IN_W) { continue; }
      let xBase = ((b * IN_H + iy) * IN_W + ix) * IN_C;
      let wBase = (ky * K_W + kx) * IN_C * OUT_C + co;
      for (var ci = 0; ci < IN_C; ci++) {
        acc += x[xBase + ci] * W[wBase + ci * OUT_C];
      }
    }
  }
  setOutputAtIndex(index, acc);`;

export const webgpuConv2DKernel: KernelOverride = {
  kernelName: tf.Conv2D,
  make: (builtin) => (args: KernelArgs) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const info = directConvInfo(x.shape, filter.shape, attrsOf<tf.Conv2DAttrs>(args.attrs));
    if (!info) return builtin(args);
    return runFlatProgram(args.backend, {
      key: 'exitlab_conv2d_direct', inputs: [['x', x], ['W', filter]], outputShape: info.outShape, constants: convConstants(info), body: BODY,
    });
  },
};
