// Starting the wasm backend in Node: its binaries are read from the package's dist folder, and
// the threaded build is ruled out because it starts workers from blob: URLs, which Node cannot.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../kernels';

let pathsSet = false;

function wasmDistFolder(): string {
  // The package's main file is dist/tf-backend-wasm.node.js, next to the .wasm binaries.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

/** Everything that must happen before tf.setBackend('wasm'); safe to call repeatedly. */
export function prepareWasm(): void {
  registerWasmKernels();
  if (pathsSet) return;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(wasmDistFolder() + path.sep);
  pathsSet = true;
}
