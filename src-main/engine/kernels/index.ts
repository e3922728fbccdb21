// Kernels the wasm backend lacks or runs slowly, registered over its own set, and for every backend
// a leaner batch norm gradient and the gradient of AvgPoolGrad (for double backprop). Both idempotent.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
import { conv2DBackpropInputKernel } from './conv2d-backprop-input';
import { castOverride, concatOverride, identityOverride, splitVOverride } from './memory-kernels';
import { meanOverride, sumOverride } from './reductions';
import { transposeOverride } from './transpose';
import { fusedBatchNormGradConfig } from './batch-norm-grad';
import { avgPoolGradGradConfig } from './avg-pool-grad-grad';
import { batchNormTrainingGradKernel, batchNormTrainingKernel } from './batch-norm-training';
import { installWasmKernel, type KernelOverride } from './override';

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

export function registerWasmKernels(): void {
  WASM_KERNELS.forEach(installWasmKernel);
}

export function registerGradients(): void {
  for (const config of [fusedBatchNormGradConfig, avgPoolGradGradConfig]) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}
