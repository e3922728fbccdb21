// Kernels the wasm and webgpu backends lack or run slowly, registered over their own sets, and for
// every backend a leaner batch norm gradient and the gradient of AvgPoolGrad (for double backprop).
// All idempotent.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
import { conv2DBackpropInputKernel } from './conv2d-backprop-input';
import { castOverride, concatOverride, identityOverride, splitVOverride } from './memory-kernels';
import { meanOverride, sumOverride } from './reductions';
import { transposeOverride } from './transpose';
import { fusedBatchNormGradConfig } from './batch-norm-grad';
import { avgPoolGradGradConfig } from './avg-pool-grad-grad';
import { batchNormTrainingGradKernel, batchNormTrainingKernel } from './batch-norm-training';
import { webgpuConv2DKernel } from './webgpu-conv2d';
import { webgpuConv2DBackpropInputKernel } from './webgpu-conv2d-backprop-input';
import { webgpuConv2DBackpropFilterKernel } from './webgpu-conv2d-backprop-filter';
import { webgpuAddNKernel } from './webgpu-add-n';
import { installKernel, type KernelOverride } from './override';

const WASM_KERNELS: KernelOverride[] = [
  conv2DBackpropFilterKernel,
  conv2DBackpropInputKernel,
  identityOverride,
  castOverride,
  concatOverride,
  splitVOverride,
  transposeOverride,
  sumOverride,
  meanOverride,
  batchNormTrainingKernel,
  batchNormTrainingGradKernel,
];

/** `softwareOnly`: faster than the built-in on a CPU driver (SwiftShader), not measured on a GPU. */
const WEBGPU_KERNELS: Array<{ kernel: KernelOverride; softwareOnly: boolean }> = [
  { kernel: webgpuConv2DKernel, softwareOnly: true },
  { kernel: webgpuConv2DBackpropInputKernel, softwareOnly: true },
  { kernel: webgpuConv2DBackpropFilterKernel, softwareOnly: false },
  { kernel: webgpuAddNKernel, softwareOnly: false },
];

export function registerWasmKernels(): void {
  for (const kernel of WASM_KERNELS) installKernel(kernel, 'wasm');
}

/** Once per process, for its one adapter: a process never changes from a software to a hardware one. */
export function registerWebGpuKernels(softwareAdapter: boolean): void {
  for (const { kernel, softwareOnly } of WEBGPU_KERNELS) if (softwareAdapter || !softwareOnly) installKernel(kernel, 'webgpu');
}

export function registerGradients(): void {
  for (const config of [fusedBatchNormGradConfig, avgPoolGradGradConfig]) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}
