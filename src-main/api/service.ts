// One ExitLab api instance: the handlers of the contract bound to a data folder, the event hub the
// transports forward, and the live runs to stop on shutdown. Electron main and the browser-mode
// server each create one and differ only in transport, engine launcher and dialogs.
import type { ApiEnvelope } from '../../src-shared/api';
import { RunService, type EngineLauncher } from '../runs/service';
import type { ApiContext } from './context';
import { dispatch, type Handlers } from './dispatch';
import { EventHub } from './events';
import { createHandlers } from './handlers';
import { LiveRuns } from './live-runs';
import { appRoot } from '../app-root';

export interface ApiServiceOptions {
  home: string;
  mode: ApiContext['mode'];
  /** How an engine process is started (default: child_process.fork through the engine host). */
  launchEngine?: EngineLauncher;
  pickPath?: ApiContext['pickPath'];
  /** Environment of engine processes (tests pin the backend through it). */
  engineEnv?: NodeJS.ProcessEnv;
}

export interface ApiService {
  hub: EventHub;
  handlers: Handlers;
  call(method: unknown, params: unknown): Promise<ApiEnvelope>;
  /** Stops active runs on a checkpoint (killing those that do not stop within graceMs), then closes the store. */
  shutdown(graceMs?: number): Promise<void>;
}

export function createApiService(options: ApiServiceOptions): ApiService {
  const hub = new EventHub();
  const runs = new RunService({ home: options.home, launch: options.launchEngine, env: options.engineEnv });
  const live = new LiveRuns(hub, runs);
  const ctx: ApiContext = { home: options.home, mode: options.mode, version: appRoot().version, hub, live, runs, pickPath: options.pickPath };
  const handlers = createHandlers(ctx);
  return {
    hub,
    handlers,
    call: (method, params) => dispatch(handlers, method, params),
    shutdown: async (graceMs = 15_000) => {
      await live.stopAll(graceMs);
      await runs.close();
    },
  };
}
