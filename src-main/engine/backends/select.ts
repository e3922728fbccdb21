// Backend selection. `auto` takes the fastest backend that works on this machine, in the order
// native CUDA, WebGPU on a hardware adapter, native CPU, wasm (SIMD), pure JS, and reports why
// each faster one was skipped. tfjs-node and tfjs-node-gpu are optional dependencies: their
// install downloads libtensorflow, so on machines without internet they are simply absent.
// A software WebGPU adapter (SwiftShader, llvmpipe, WARP) is slower than wasm: `auto` never takes
// it, and choosing webgpu explicitly on one runs with a warning in the report.
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../../src-shared/config';
import { describeAdapter, type AdapterReport, type BackendReport } from '../../../src-shared/engine-messages';
import { prepareWasm } from './wasm';
import { WebGpuUnavailable, forgetWebGpuForTests, probeWebGpu, registerWebGpuBackend } from './webgpu';
import { registerGradients } from '../kernels';

export type ConcreteBackend = Exclude<BackendName, 'auto'>;
const AUTO_ORDER: ConcreteBackend[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

export class BackendUnavailableError extends Error {}

/** Why a backend cannot run here (thrown by `activate`, becomes the skip reason). */
class Unavailable extends Error {}

type Loader = (id: string) => unknown;
let load: Loader = (id) => require(id);

/** For tests: replaces `require` for the optional native modules. */
export function setModuleLoaderForTests(loader: Loader | null): void {
  load = loader ?? ((id) => require(id));
  last = null;
  forgetWebGpuForTests();
}

function requireOptional(moduleName: string): void {
  try {
    load(moduleName);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing native binding inside an installed package is also MODULE_NOT_FOUND, naming its path.
    if (code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${moduleName}'`)) {
      throw new Unavailable(`module ${moduleName} is not installed`);
    }
    throw new Unavailable(`module ${moduleName} failed to load: ${firstLine(err)}`);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** tf.setBackend reports an initialisation failure only as a console warning; keep its text. */
async function setTfBackend(name: string): Promise<void> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new Unavailable(firstLine(err));
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    const detail = warnings.filter((w) => !/^Initialization of backend/.test(w)).map((w) => w.split('\n')[0]).join('; ');
    throw new Unavailable(`initialisation failed${detail ? `: ${detail}` : ''}`);
  }
  await tf.ready();
}

/** Makes `name` the active tf backend, or throws Unavailable; returns the GPU adapter it runs on. */
async function activate(name: ConcreteBackend, auto: boolean): Promise<AdapterReport | undefined> {
  switch (name) {
    case 'tfjs-node-gpu': {
      requireOptional('@tensorflow/tfjs-node-gpu');
      await setTfBackend('tensorflow');
      // Without a CUDA device libtensorflow silently runs on the CPU.
      const backend = tf.backend();
      if (!('isUsingGpuDevice' in backend && backend.isUsingGpuDevice === true)) {
        throw new Unavailable('no CUDA device found');
      }
      return;
    }
    case 'webgpu': {
      requireOptional('webgpu');
      let adapter: AdapterReport;
      try {
        adapter = await probeWebGpu(load);
      } catch (err) {
        if (err instanceof WebGpuUnavailable) throw new Unavailable(err.message);
        throw err;
      }
      if (auto && adapter.software) throw new Unavailable(`software adapter only (${describeAdapter(adapter)}): slower than wasm`);
      registerWebGpuBackend();
      await setTfBackend('webgpu');
      return adapter;
    }
    case 'tfjs-node':
      requireOptional('@tensorflow/tfjs-node');
      await setTfBackend('tensorflow');
      return;
    case 'wasm': {
      prepareWasm();
      const before = processListeners();
      await setTfBackend('wasm');
      dropListenersAddedSince(before);
      return;
    }
    case 'cpu':
      await setTfBackend('cpu');
      return;
  }
}

type Listener = (...args: never[]) => unknown;
type ListenerSnapshot = { uncaught: Set<Listener>; rejection: Set<Listener> };

function processListeners(): ListenerSnapshot {
  return { uncaught: new Set(process.listeners('uncaughtException')), rejection: new Set(process.listeners('unhandledRejection')) };
}

/**
 * Emscripten's Node glue (run when the wasm module starts) installs process handlers that rethrow
 * every uncaught exception and unhandled rejection, which would kill the engine process before it
 * could report the failure. The engine has its own handlers; remove Emscripten's.
 */
function dropListenersAddedSince(before: ListenerSnapshot): void {
  for (const l of process.listeners('uncaughtException')) if (!before.uncaught.has(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection')) if (!before.rejection.has(l)) process.removeListener('unhandledRejection', l);
}

let last: { pref: BackendName; report: BackendReport; tfName: string } | null = null;

/**
 * Activates the preferred backend (`auto`: the first that works, in AUTO_ORDER) and reports it.
 * An explicitly chosen backend that cannot run is an error, never a silent fallback.
 * Calling again with the same preference is cheap.
 */
export async function selectBackend(pref: BackendName): Promise<BackendReport> {
  if (last && last.pref === pref && tf.getBackend() === last.tfName) return last.report;
  registerGradients();
  const candidates = pref === 'auto' ? AUTO_ORDER : [pref];
  const skipped: BackendReport['skipped'] = [];
  for (const name of candidates) {
    let adapter: AdapterReport | undefined;
    try {
      adapter = await activate(name, pref === 'auto');
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      if (pref !== 'auto') throw new BackendUnavailableError(`backend ${name} is not available: ${err.message}`);
      skipped.push({ backend: name, reason: err.message });
      continue;
    }
    const report: BackendReport = adapter ? { backend: name, skipped, adapter } : { backend: name, skipped };
    last = { pref, report, tfName: tf.getBackend() };
    return report;
  }
  throw new BackendUnavailableError(`no backend could be started (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
}
