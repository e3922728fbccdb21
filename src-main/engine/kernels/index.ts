// Kernels the wasm backend lacks or runs slowly, registered over its own set, and a leaner batch
// norm gradient for every backend. Both idempotent.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { castOverride, concatOverride, identityOverride, splitVOverride } from './memory-kernels';
import { meanOverride, sumOverride } from './reductions';
import { transposeOverride } from './transpose';
import { fusedBatchNormGradConfig } from './batch-norm-grad';
import { batchNormTrainingConfig, batchNormTrainingGradConfig } from './batch-norm-training';
import { installWasmKernel, type KernelOverride } from './override';

// A whole kernel of our own: it replaces the built-in of that name, if wasm has one.
const ownKernel = (config: tf.KernelConfig): KernelOverride => ({ kernelName: config.kernelName, make: () => config.kernelFunc as never });

const WASM_KERNELS: KernelOverride[] = [
  ownKernel(conv2DBackpropFilterConfig),
  ownKernel(conv2DBackpropInputConfig),
  identityOverride,
  castOverride,
  concatOverride,
  splitVOverride,
  transposeOverride,
  sumOverride,
  meanOverride,
  ownKernel(batchNormTrainingConfig),
  ownKernel(batchNormTrainingGradConfig),
];

export function registerWasmKernels(): void {
  WASM_KERNELS.forEach(installWasmKernel);
}

export function registerGradients(): void {
  if (tf.getGradient(tf.FusedBatchNorm) !== fusedBatchNormGradConfig) tf.registerGradient(fusedBatchNormGradConfig);
}
