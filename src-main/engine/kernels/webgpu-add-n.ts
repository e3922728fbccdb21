// AddN for webgpu. tfjs's kernel binds every input as a storage buffer of one shader, so a sum of
// more inputs than the device allows per shader stage (maxStorageBuffersPerShaderStage, output
// included: 8 to 16 on most GPUs, 12 on SwiftShader) fails validation. GradAlign adds one term per
// trainable variable (57 on a 2-block MSDNet). Here such a sum is added in groups that fit, and the
// groups' sums in turn, each through the built-in kernel.
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, KernelOverride } from './override';

type DeviceBackend = tf.KernelBackend & { device: { limits: { maxStorageBuffersPerShaderStage: number } } };

export const webgpuAddNKernel: KernelOverride = {
  kernelName: tf.AddN,
  make: (builtin) => (args: KernelArgs) => {
    const perShader = (args.backend as DeviceBackend).device.limits.maxStorageBuffersPerShaderStage - 1;
    let terms = args.inputs as tf.TensorInfo[];
    const partials: tf.TensorInfo[] = [];
    while (terms.length > perShader) {
      const sums: tf.TensorInfo[] = [];
      for (let i = 0; i < terms.length; i += perShader) {
        const group = terms.slice(i, i + perShader);
        sums.push(group.length === 1 ? group[0] : (builtin({ ...args, inputs: group }) as tf.TensorInfo));
      }
      partials.push(...sums.filter((s) => !terms.includes(s)));
      terms = sums;
    }
    const sum = builtin({ ...args, inputs: terms }) as tf.TensorInfo;
    for (const p of partials) args.backend.disposeData(p.dataId);
    return sum;
  },
};
