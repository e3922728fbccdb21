import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, selectBackend, setModuleLoaderForTests } from '../../../src-main/engine/backends/select';

/** Simulates a machine where the native modules are absent, whatever this one has installed. */
function notInstalled(id: string): never {
  const err = new Error(`Cannot find module '${id}'`) as NodeJS.ErrnoException;
  err.code = 'MODULE_NOT_FOUND';
  throw err;
}

describe('selectBackend', () => {
  afterEach(() => setModuleLoaderForTests(null));

  it('auto falls through to wasm and says why the native backends were skipped', async () => {
    setModuleLoaderForTests(notInstalled);
    const report = await selectBackend('auto');
    expect(report).toEqual({
      backend: 'wasm',
      skipped: [
        { backend: 'tfjs-node-gpu', reason: 'module @tensorflow/tfjs-node-gpu is not installed' },
        { backend: 'tfjs-node', reason: 'module @tensorflow/tfjs-node is not installed' },
      ],
    });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('reports a native module that is installed but cannot load', async () => {
    setModuleLoaderForTests((id) => {
      if (id === '@tensorflow/tfjs-node-gpu') notInstalled(id);
      throw new Error('libtensorflow.so.2: cannot open shared object file\n    at Module._extensions');
    });
    const report = await selectBackend('auto');
    expect(report.skipped[1]).toEqual({ backend: 'tfjs-node', reason: 'module @tensorflow/tfjs-node failed to load: libtensorflow.so.2: cannot open shared object file' });
  });

  it('refuses an explicitly chosen backend that is not available', async () => {
    setModuleLoaderForTests(notInstalled);
    await expect(selectBackend('tfjs-node')).rejects.toThrow(BackendUnavailableError);
    await expect(selectBackend('tfjs-node-gpu')).rejects.toThrow('backend tfjs-node-gpu is not available: module @tensorflow/tfjs-node-gpu is not installed');
  });

  it('switches between explicit choices and answers a repeated call from its cache', async () => {
    expect(await selectBackend('cpu')).toEqual({ backend: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await selectBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(await selectBackend('wasm')).toBe(wasm);
  });

  it('leaves no Emscripten process handlers behind', async () => {
    // The wasm module may already have started in this file; selecting it again must not add any.
    const count = () => process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length;
    await selectBackend('cpu');
    const before = count();
    await selectBackend('wasm');
    expect(count()).toBe(before);
  });
});
