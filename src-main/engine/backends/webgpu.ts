// WebGPU through Dawn's Node binding (npm `webgpu`, its native binary inside the package), with
// tfjs-backend-webgpu's kernels. That package registers its backend only where
// `navigator.gpu` exists, which Node lacks, so we open the adapter and device ourselves and
// register the backend under its own name `webgpu`, the name its kernels are registered for.
//
// WebGPU reports faults out of band: an allocation that does not fit is an `uncapturederror`, a
// driver reset resolves `device.lost`, and the kernels meanwhile compute garbage. The backend
// therefore refuses every read once a fault was seen, so the step that reads its loss fails.
import * as tf from '@tensorflow/tfjs';
import type { AdapterReport } from '../../../src-shared/engine-messages';
import { registerWebGpuKernels } from '../kernels';

/** The few parts of the WebGPU API used here (its full typings need the DOM library). */
interface GpuAdapterInfo { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean }
interface GpuError { message: string; constructor: { name: string } }
export interface GpuDevice {
  lost: Promise<{ reason: string; message: string }>;
  onuncapturederror: ((event: { error: GpuError }) => void) | null;
  destroy(): void;
}
interface GpuAdapter {
  info: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  features: Set<string>;
  requestDevice(descriptor: { requiredLimits: Record<string, number>; requiredFeatures: string[] }): Promise<GpuDevice>;
}
interface DawnModule {
  create(flags: string[]): { requestAdapter(options: { powerPreference: string }): Promise<GpuAdapter | null> };
  globals: Record<string, unknown>;
}
type WebGpuBackendClass = new (device: GpuDevice, info: GpuAdapterInfo) => tf.KernelBackend & {
  read(dataId: object): Promise<tf.backend_util.BackendValues>;
  readSync(dataId: object): tf.backend_util.BackendValues;
};

/** Thrown by `probeWebGpu` when no adapter can be used; its message becomes the skip reason. */
export class WebGpuUnavailable extends Error {}

/** A fault the GPU reported; reads fail with it from then on. */
class GpuFaultError extends Error {}

// Drivers that rasterise on the CPU. Dawn marks SwiftShader as a fallback adapter; the others
// (Mesa's llvmpipe/lavapipe, Microsoft's WARP / Basic Render Driver) only say so in their names.
const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i;

function isSoftwareAdapter(info: GpuAdapterInfo, fallback = false): boolean {
  return fallback || info.isFallbackAdapter === true || SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

type Loader = (id: string) => unknown;

let dawn: DawnModule | null = null;

function loadDawn(load: Loader): DawnModule {
  if (dawn) return dawn;
  try {
    dawn = load('webgpu') as DawnModule;
  } catch (err) {
    throw new WebGpuUnavailable(`module webgpu failed to load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  }
  // tfjs-backend-webgpu uses GPUBufferUsage, GPUMapMode and friends as globals, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
  return dawn;
}

export interface WebGpuSession {
  adapter: AdapterReport;
  /** The fault that ended this device, once one has. */
  fault(): GpuFaultError | null;
  device: GpuDevice;
}

type Gpu = ReturnType<DawnModule['create']>;

/** The probed adapter (null once a device was made from it) and the device in use. */
interface Probed { gpu: Gpu; adapter: GpuAdapter | null; report: AdapterReport; current: WebGpuSession | null }

let session: Probed | null = null;

/** Finds the high-performance adapter (once per process) and describes it; throws WebGpuUnavailable. */
export async function probeWebGpu(load: Loader): Promise<AdapterReport> {
  if (session) return session.report;
  const gpu = loadDawn(load).create([]);
  const adapter = await requestAdapter(gpu);
  const { vendor, architecture, description, device } = adapter.info;
  const report: AdapterReport = {
    vendor, architecture, description: description || device, software: isSoftwareAdapter(adapter.info, adapter.isFallbackAdapter),
  };
  session = { gpu, adapter, report, current: null };
  return report;
}

async function requestAdapter(gpu: Gpu): Promise<GpuAdapter> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGpuUnavailable('no WebGPU adapter (needs a GPU driver with Vulkan, Metal or Direct3D 12)');
  return adapter;
}

/** For tests: forgets the loaded module and adapter, so the next probe uses the test's loader. */
export function forgetWebGpuForTests(): void {
  dawn = null;
  session = null;
}

/** For tests: the device of the active webgpu backend. */
export function currentWebGpuSession(): WebGpuSession | null {
  return session?.current ?? null;
}

// A tensor larger than one buffer may be is refused as invalid, not as out of memory; to the user
// it is the same thing, a batch too large for this GPU.
const OVER_BUFFER_LIMIT = /exceeds the max (buffer size|storage buffer binding size)/i;

function faultOf(error: GpuError): GpuFaultError {
  if (error.constructor.name === 'GPUOutOfMemoryError' || OVER_BUFFER_LIMIT.test(error.message)) {
    return new GpuFaultError(`GPU out of memory: ${error.message.split('\n')[0]}`);
  }
  return new GpuFaultError(`GPU error (${error.constructor.name}): ${error.message.split('\n')[0]}`);
}

async function openDevice(adapter: GpuAdapter, report: AdapterReport): Promise<WebGpuSession> {
  // The defaults cap buffers at 256 MiB and storage bindings at 128 MiB; a GPU allows far more.
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits) requiredLimits[key] = adapter.limits[key];
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  let fault: GpuFaultError | null = null;
  device.onuncapturederror = (event) => {
    fault ??= faultOf(event.error);
  };
  void device.lost.then((info) => {
    fault ??= new GpuFaultError(`GPU device lost (${info.reason}): ${info.message.split('\n')[0]}`);
  });
  return { adapter: report, device, fault: () => fault };
}

let registeredFor: Probed | null = null;

/** Registers the `webgpu` tf backend on the probed adapter (a new device each time it starts). */
export function registerWebGpuBackend(): void {
  if (!session) throw new Error('probeWebGpu must run first');
  const probed = session;
  // Loading the package registers its kernels for `webgpu`; its own backend factory stays off.
  const { WebGPUBackend } = require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: WebGpuBackendClass };
  registerWebGpuKernels(probed.report.software);
  // Its constructor insists on `navigator.gpu`; set only after the import, or the package would
  // register a backend of its own on a device without our limits and fault checks.
  exposeNavigatorGpu(probed.gpu);
  class CheckedWebGpuBackend extends WebGPUBackend {
    constructor(private readonly gpu: WebGpuSession, info: GpuAdapterInfo) {
      super(gpu.device, info);
    }
    private check(): void {
      const fault = this.gpu.fault();
      if (fault) throw fault;
    }
    // Upstream reads synchronously through an OffscreenCanvas, which Node lacks.
    override readSync(dataId: object): tf.backend_util.BackendValues {
      this.check();
      try {
        return super.readSync(dataId);
      } catch (err) {
        if (!(err instanceof ReferenceError) || !/OffscreenCanvas/.test(err.message)) throw err;
        throw new Error('webgpu cannot read a tensor synchronously in Node (dataSync, arraySync, or a tensor moved to another backend): await data() instead');
      }
    }
    override async read(dataId: object): Promise<tf.backend_util.BackendValues> {
      this.check();
      const values = await super.read(dataId);
      this.check();
      return values;
    }
  }
  if (registeredFor === probed && tf.findBackendFactory('webgpu')) return;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  registeredFor = probed;
  tf.registerBackend('webgpu', async () => {
    // An adapter gives one device; a backend started again (after a lost device) needs a new one.
    const adapter = probed.adapter ?? (await requestAdapter(probed.gpu));
    probed.adapter = null;
    probed.current = await openDevice(adapter, probed.report);
    return new CheckedWebGpuBackend(probed.current, adapter.info);
  });
}

function exposeNavigatorGpu(gpu: Gpu): void {
  const g = globalThis as { navigator?: object };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (!('gpu' in g.navigator!)) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
}
