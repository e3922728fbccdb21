import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, selectBackend, setModuleLoaderForTests } from '../../../src-main/engine/backends/select';

/** Simulates a machine where the native modules are absent, whatever this one has installed. */
function notInstalled(id: string): never {
  const err = new Error(`Cannot find module '${id}'`) as NodeJS.ErrnoException;
  err.code = 'MODULE_NOT_FOUND';
  throw err;
}

type Info = { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean };
const SWIFTSHADER: Info = {
  vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true,
};
const LLVMPIPE: Info = { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)', isFallbackAdapter: false };
const HOPPER: Info = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false };

/** Dawn's module with one adapter described by `info` (none for null); devices come from the real Dawn. */
function dawnWith(info: Info | null) {
  return {
    globals: {},
    create: () => ({
      requestAdapter: async () => {
        if (!info) return null;
        const real = await realAdapter();
        return {
          info, isFallbackAdapter: info.isFallbackAdapter, limits: real?.limits ?? {}, features: real?.features ?? new Set(),
          requestDevice: (d: object) => real!.requestDevice(d),
        };
      },
    }),
  };
}

async function realAdapter(): Promise<{ limits: Record<string, number>; features: Set<string>; requestDevice(d: object): Promise<unknown> } | null> {
  try {
    // The webgpu package ships no types for its module object; this is the one call used.
    const dawn = (await import('webgpu')) as unknown as { create(f: string[]): { requestAdapter(o: object): Promise<never> } };
    return await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
}

const hasAdapter = (await realAdapter()) !== null;

/** Only Dawn present (as `dawn`), the native tfjs modules absent. */
const onlyDawn = (dawn: unknown) => (id: string) => (id === 'webgpu' ? dawn : notInstalled(id));

describe('selectBackend', () => {
  afterEach(() => setModuleLoaderForTests(null));

  it('auto falls through to wasm and says why the native backends were skipped', async () => {
    setModuleLoaderForTests(notInstalled);
    const report = await selectBackend('auto');
    expect(report).toEqual({
      backend: 'wasm',
      skipped: [
        { backend: 'tfjs-node-gpu', reason: 'module @tensorflow/tfjs-node-gpu is not installed' },
        { backend: 'webgpu', reason: 'module webgpu is not installed' },
        { backend: 'tfjs-node', reason: 'module @tensorflow/tfjs-node is not installed' },
      ],
    });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('reports a native module that is installed but cannot load', async () => {
    setModuleLoaderForTests((id) => {
      if (id === '@tensorflow/tfjs-node-gpu' || id === 'webgpu') notInstalled(id);
      throw new Error('libtensorflow.so.2: cannot open shared object file\n    at Module._extensions');
    });
    const report = await selectBackend('auto');
    expect(report.skipped[2]).toEqual({
      backend: 'tfjs-node', reason: 'module @tensorflow/tfjs-node failed to load: libtensorflow.so.2: cannot open shared object file',
    });
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

  it('auto never takes a software WebGPU adapter, and says so', async () => {
    for (const [info, name] of [[SWIFTSHADER, 'google swiftshader, SwiftShader driver 5.0.0'], [LLVMPIPE, 'mesa, llvmpipe (LLVM 15.0.6, 256 bits)']] as const) {
      setModuleLoaderForTests(onlyDawn(dawnWith(info)));
      const report = await selectBackend('auto');
      expect(report.backend).toBe('wasm');
      expect(report.skipped[1]).toEqual({ backend: 'webgpu', reason: `software adapter only (${name}): slower than wasm` });
    }
  });

  it('says when Dawn finds no adapter at all', async () => {
    setModuleLoaderForTests(onlyDawn(dawnWith(null)));
    expect((await selectBackend('auto')).skipped[1]).toEqual({
      backend: 'webgpu', reason: 'no WebGPU adapter (needs a GPU driver with Vulkan, Metal or Direct3D 12)',
    });
    await expect(selectBackend('webgpu')).rejects.toThrow('backend webgpu is not available: no WebGPU adapter');
  });

  // Needs a real adapter for the device (SwiftShader in CI), presented as a hardware one.
  it.skipIf(!hasAdapter)('auto takes a hardware WebGPU adapter and reports it', async () => {
    setModuleLoaderForTests(onlyDawn(dawnWith(HOPPER)));
    const report = await selectBackend('auto');
    expect(report).toEqual({
      backend: 'webgpu',
      skipped: [{ backend: 'tfjs-node-gpu', reason: 'module @tensorflow/tfjs-node-gpu is not installed' }],
      adapter: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', software: false },
    });
    expect(tf.getBackend()).toBe('webgpu');
    expect(await tf.add(tf.ones([2]), 1).data()).toEqual(new Float32Array([2, 2]));
    await selectBackend('cpu');
  });
});
