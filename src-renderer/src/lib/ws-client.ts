// The ExitLabApi over the browser-mode WebSocket: requests carry an id and are answered with an
// envelope; events arrive unrequested. Calls made while (re)connecting wait for the connection; a
// lost connection fails the calls in flight with a readable message and reconnects.
import type { ApiEnvelope, ApiEvent, ExitLabApi, WsReply } from '../../../src-shared/api';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface WsApi extends ExitLabApi {
  onConnection(listener: (state: ConnectionState) => void): () => void;
  close(): void;
}

export function createWsApi(url: string, WebSocketImpl: typeof WebSocket = WebSocket): WsApi {
  let socket: WebSocket | null = null;
  let nextId = 1;
  let closedByUs = false;
  let retryMs = 500;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const outbox: string[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  const setState = (state: ConnectionState) => connectionListeners.forEach((l) => l(state));

  const connect = () => {
    setState('connecting');
    const ws = new WebSocketImpl(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      setState('open');
      while (outbox.length) ws.send(outbox.shift()!);
    };
    ws.onmessage = (message) => {
      const reply = JSON.parse(String(message.data)) as WsReply;
      if ('id' in reply) {
        const call = pending.get(reply.id);
        if (!call) return;
        pending.delete(reply.id);
        const envelope = reply.envelope as ApiEnvelope;
        if (envelope.ok) call.resolve(envelope.value);
        else call.reject(new Error(envelope.error.message));
      } else {
        listeners.get(reply.event)?.forEach((l) => l(reply.payload));
      }
    };
    ws.onclose = () => {
      socket = null;
      for (const call of pending.values()) call.reject(new Error('lost the connection to the ExitLab server (was it stopped?)'));
      pending.clear();
      setState('closed');
      if (!closedByUs) {
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 5000);
      }
    };
  };
  connect();

  return {
    invoke(method, request) {
      const id = nextId++;
      const text = JSON.stringify({ id, method, params: request });
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        if (socket && socket.readyState === WebSocketImpl.OPEN) socket.send(text);
        else outbox.push(text);
      });
    },
    on(event: ApiEvent, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    close() {
      closedByUs = true;
      socket?.close();
    },
  };
}
