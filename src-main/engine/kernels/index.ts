// Kernels the wasm backend lacks (or runs slowly), registered over its own set. Idempotent.
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';

const WASM_KERNELS: tf.KernelConfig[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig];

export function registerWasmKernels(): void {
  for (const config of WASM_KERNELS) {
    const current = tf.getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    // Replacing a built-in kernel: unregister first so tfjs does not warn about a duplicate.
    if (current) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}
