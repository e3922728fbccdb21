// Our wasm kernels replace tfjs's built-in ones of the same name; some keep the built-in for the
// cases they do not handle.
import * as tf from '@tensorflow/tfjs';

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap | tf.TensorInfo[]; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

export interface KernelOverride {
  kernelName: string;
  /** Builds the kernel function; `builtin` is what was registered before (throws if there was none). */
  make(builtin: KernelFn): KernelFn;
}

const installed = new Map<string, tf.KernelConfig>();

export function installWasmKernel(override: KernelOverride): void {
  const current = tf.getKernel(override.kernelName, 'wasm');
  if (current && installed.get(override.kernelName) === current) return;
  const builtin: KernelFn = current
    ? (current.kernelFunc as unknown as KernelFn)
    : () => {
        throw new Error(`wasm kernel ${override.kernelName} has no built-in fallback`);
      };
  // Unregister first so tfjs does not warn about a duplicate registration.
  if (current) tf.unregisterKernel(override.kernelName, 'wasm');
  const config: tf.KernelConfig = {
    kernelName: override.kernelName,
    backendName: 'wasm',
    kernelFunc: override.make(builtin) as unknown as tf.KernelFunc,
    // The backend runs setup functions when it starts: keep the built-in's, which the fallback needs.
    setupFunc: current?.setupFunc,
  };
  tf.registerKernel(config);
  installed.set(override.kernelName, config);
}
