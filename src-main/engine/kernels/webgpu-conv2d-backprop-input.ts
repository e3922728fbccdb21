// Conv2DBackpropInput (dx) for webgpu on a software adapter, direct: one invocation per input
// element gathers the output positions that read it. For the same reason as webgpu-conv2d.ts; on
// a hardware adapter the built-in kernel runs.
import * as tf from '@tensorflow/tfjs';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';
import { directConvInfo } from './webgpu-conv2d';
import { convConstants, nhwcCoords, runFlatProgram } from './webgpu-program';

const BODY = `${nhwcCoords(['b', 'iy', 'ix', 'ci'], ['IN_H', 'IN_W', 'IN_C'])}
  var acc = 0.0;
  for (var ky = 0; ky < K_H; ky++) {
    let ty = iy + PAD_TOP - ky * DIL_H;
    if (ty < 0 || ty % STRIDE_H != 0) { continue; }
    let oy = ty / STRIDE_H;
    if (oy >= OUT_H) { continue; }
    for (var kx = 0; kx < K_W; kx++) {
      let tx = ix + PAD_LEFT - kx * DIL_W;
      if (tx < 0 || tx % STRIDE_W != 0) { continue; }
      let ox = tx / STRIDE_W;
      if (ox >= OUT_W) { continue; }
      let dyBase = ((b * OUT_H + oy) * OUT_W + ox) * OUT_C;
      let wBase = ((ky * K_W + kx) * IN_C + ci) * OUT_C;
      for (var co = 0; co < OUT_C; co++) {
        acc += dy[dyBase + co] * W[wBase + co];
      }
    }
  }
  setOutputAtIndex(index, acc);`;

export const webgpuConv2DBackpropInputKernel: KernelOverride = {
  kernelName: tf.Conv2DBackpropInput,
  make: (builtin) => (args: KernelArgs) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = attrsOf<tf.Conv2DBackpropInputAttrs>(args.attrs);
    const info = directConvInfo(attrs.inputShape, filter.shape, attrs);
    if (!info) return builtin(args);
    return runFlatProgram(args.backend, {
      key: 'exitlab_conv2d_backprop_input_direct', inputs: [['dy', dy], ['W', filter]], outputShape: info.inShape, constants: convConstants(info), body: BODY,
    });
  },
};
