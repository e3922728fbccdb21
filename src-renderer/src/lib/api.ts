// The renderer's one door to the main process: `window.exitlab` in Electron (from the preload), a
// WebSocket client in browser mode. Components call `api()`; tests install a fake with `setApi`.
import type { ExitLabApi } from '../../../src-shared/api';
import { WS_PATH } from '../../../src-shared/api';
import { createWsApi, type ConnectionState } from './ws-client';

declare global {
  interface Window {
    exitlab?: ExitLabApi;
  }
}

let current: ExitLabApi | null = null;
const connectionListeners = new Set<(state: ConnectionState) => void>();

export function api(): ExitLabApi {
  if (current) return current;
  if (window.exitlab) return (current = window.exitlab);
  const ws = createWsApi(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WS_PATH}`);
  ws.onConnection((state) => connectionListeners.forEach((l) => l(state)));
  return (current = ws);
}

export function setApi(fake: ExitLabApi | null): void {
  current = fake;
}

/** Browser mode only: the WebSocket's state, for a "disconnected" banner. */
export function onConnection(listener: (state: ConnectionState) => void): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let jobCounter = 0;
export const newJobId = (kind: string) => `${kind}-${Date.now().toString(36)}-${++jobCounter}`;
