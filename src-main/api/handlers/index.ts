// All handlers of the contract, bound to one context. Transports (Electron IPC, the browser-mode
// WebSocket) only ever call `dispatch` with these.
import type { Handlers } from '../dispatch';
import type { ApiContext } from '../context';
import { appHandlers } from './app';
import { datasetHandlers } from './datasets';
import { modelHandlers } from './model';
import { runHandlers } from './runs';
import { evalHandlers } from './eval';
import { exportHandlers } from './export';
import { studyHandlers } from './studies';

export function createHandlers(ctx: ApiContext): Handlers {
  return {
    ...appHandlers(ctx),
    ...datasetHandlers(ctx),
    ...modelHandlers(),
    ...runHandlers(ctx),
    ...evalHandlers(ctx),
    ...exportHandlers(ctx),
    ...studyHandlers(ctx),
  };
}
