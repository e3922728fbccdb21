// Our kernels replace a backend's built-in ones of the same name; some keep the built-in for the
// cases they do not handle.
import * as tf from '@tensorflow/tfjs';

/** What tfjs passes a kernel: `inputs` is an array for Concat and the like, `backend` the backend. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap | tf.TensorInfo[]; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

export interface KernelOverride {
  kernelName: string;
  /** Builds the kernel function; `builtin` is what was registered before (throws if there was none). */
  make(builtin: KernelFn): KernelFn;
}

/** A kernel's (or gradient's) attributes as the interface tfjs declares for them, e.g. tf.SumAttrs. */
export function attrsOf<T extends object>(attrs: tf.NamedAttrMap | undefined): T {
  // tfjs hands a kernel the attribute object its op built, of that op's interface, but types it as
  // the generic NamedAttrMap, which an interface without an index signature does not convert to;
  // tfjs's own kernels cast the same way.
  return attrs as unknown as T;
}

const installed = new Map<string, tf.KernelConfig>();

/** Registers `override` for `backendName` over what is there (again only if something replaced it). */
export function installKernel(override: KernelOverride, backendName: string): void {
  const key = `${backendName}/${override.kernelName}`;
  const current = tf.getKernel(override.kernelName, backendName);
  if (current && installed.get(key) === current) return;
  const builtin: KernelFn = current
    ? // tf.KernelFunc types `backend` as {} and `inputs` as a map; tfjs calls it with the values
      // KernelArgs names (the backend object; an array for Concat), so the two are the same function.
      (current.kernelFunc as unknown as KernelFn)
    : () => {
        throw new Error(`${backendName} kernel ${override.kernelName} has no built-in fallback`);
      };
  // Unregister first so tfjs does not warn about a duplicate registration.
  if (current) tf.unregisterKernel(override.kernelName, backendName);
  const config: tf.KernelConfig = {
    kernelName: override.kernelName,
    backendName,
    // The same function seen the other way (see `builtin` above).
    kernelFunc: override.make(builtin) as unknown as tf.KernelFunc,
    // The backend runs setup functions when it starts: keep the built-in's, which the fallback needs.
    setupFunc: current?.setupFunc,
  };
  tf.registerKernel(config);
  installed.set(key, config);
}
