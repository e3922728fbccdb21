// Composite kernels run other wasm kernels directly on TensorInfos (not through tf ops), so they
// stay on the wasm backend, are invisible to the gradient tape and leave no tensors behind.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export class KernelScope {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** `inputs` is a list for list-input kernels (Concat, AddN). */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm kernel ${kernelName} is not registered`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs }) as tf.TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** A new float32 tensor holding `values` (small operands such as rearranged filters). */
  tensor(shape: number[], values: Float32Array): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32', undefined, values);
    this.temps.push(out);
    return out;
  }

  /** Frees every intermediate except `result` (a reshape shares data but holds its own reference). */
  dispose(result?: tf.TensorInfo): void {
    for (const t of this.temps) if (t !== result) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** Runs `body` with a scope whose intermediates are freed afterwards, also when it throws. */
export function withScope(backend: BackendWasm, body: (s: KernelScope) => tf.TensorInfo): tf.TensorInfo {
  const scope = new KernelScope(backend);
  let result: tf.TensorInfo | undefined;
  try {
    result = body(scope);
    return result;
  } finally {
    scope.dispose(result);
  }
}
