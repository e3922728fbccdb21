// The only bridge between the sandboxed renderer and the main process: it exposes exactly the
// ExitLabApi contract (invoke one of the contract's methods, subscribe to one of its events) as
// `window.exitlab`. A sandboxed preload can require nothing but 'electron', so the method and event
// names are listed here and checked against the contract at compile time.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type {
  ApiEnvelope, ApiEvent, ApiEventPayload, ApiMethod, ApiRequestInput, ApiResponse, ExitLabApi, IPC_EVENT as EventChannel, IPC_INVOKE as InvokeChannel,
} from '../../src-shared/api';

const PRELOAD_METHODS = [
  'app.info', 'app.pickPath',
  'datasets.list', 'datasets.import', 'datasets.download', 'datasets.remove', 'datasets.preview',
  'model.describe',
  'runs.start', 'runs.control', 'runs.live', 'runs.list', 'runs.get', 'runs.update', 'runs.delete', 'runs.resume', 'runs.compare',
  'eval.run',
  'export.model',
  'studies.list', 'studies.get', 'studies.report', 'studies.collect',
] as const satisfies readonly ApiMethod[];
const PRELOAD_EVENTS = ['run.event', 'run.status', 'job.progress', 'runs.changed'] as const satisfies readonly ApiEvent[];

// Compile-time exhaustiveness: a method or event added to the contract but not here fails the build.
type MissingMethods = Exclude<ApiMethod, (typeof PRELOAD_METHODS)[number]>;
type MissingEvents = Exclude<ApiEvent, (typeof PRELOAD_EVENTS)[number]>;
const exhaustive: [MissingMethods, MissingEvents] extends [never, never] ? true : never = true;
void exhaustive;

const INVOKE: typeof InvokeChannel = 'exitlab:invoke';
const EVENT: typeof EventChannel = 'exitlab:event';
const methods = new Set<string>(PRELOAD_METHODS);
const events = new Set<string>(PRELOAD_EVENTS);

const api: ExitLabApi = {
  async invoke<M extends ApiMethod>(method: M, request: ApiRequestInput<M>): Promise<ApiResponse<M>> {
    if (!methods.has(method)) throw new Error(`unknown api method '${String(method)}'`);
    const envelope = (await ipcRenderer.invoke(INVOKE, method, request)) as ApiEnvelope;
    if (envelope.ok) return envelope.value as ApiResponse<M>;
    throw new Error(envelope.error.message);
  },
  on<E extends ApiEvent>(event: E, listener: (payload: ApiEventPayload<E>) => void) {
    if (!events.has(event)) throw new Error(`unknown api event '${String(event)}'`);
    const wrapped = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload as ApiEventPayload<E>);
    };
    ipcRenderer.on(EVENT, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('exitlab', api);
