// One ExitLab api instance: the handlers of the contract bound to a data folder, the event hub the
// transports forward, and the live runs to stop on shutdown. Electron main and the browser-mode
// server each create one and differ only in transport, engine launcher and dialogs.
import type { ApiEnvelope } from '../../src-shared/api';
import type { ApiContext } from './context';
import { dispatch, type Handlers } from './dispatch';
import { engineStarter, type EngineLauncher } from './engine-starter';
import { EventHub } from './events';
import { createHandlers } from './handlers';
import { LiveRuns } from './live-runs';
import { appRoot } from './app-root';

export interface ApiServiceOptions {
  home: string;
  mode: ApiContext['mode'];
  /** How an engine process is started (default: child_process.fork through the engine host). */
  launchEngine?: EngineLauncher;
  pickPath?: ApiContext['pickPath'];
}

export interface ApiService {
  hub: EventHub;
  handlers: Handlers;
  call(method: unknown, params: unknown): Promise<ApiEnvelope>;
  /** Stops active runs on a checkpoint (killing those that do not stop within graceMs). */
  shutdown(graceMs?: number): Promise<void>;
}

export function createApiService(options: ApiServiceOptions): ApiService {
  const hub = new EventHub();
  const live = new LiveRuns(hub, engineStarter(options.home, options.launchEngine));
  const ctx: ApiContext = { home: options.home, mode: options.mode, version: appRoot().version, hub, live, pickPath: options.pickPath };
  const handlers = createHandlers(ctx);
  return {
    hub,
    handlers,
    call: (method, params) => dispatch(handlers, method, params),
    shutdown: (graceMs = 15_000) => live.stopAll(graceMs),
  };
}
