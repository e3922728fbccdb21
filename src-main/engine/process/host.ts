// Starts the engine in its own process and turns its life into typed events. Whatever happens to
// the process (a clean end, a crash, SIGKILL, running out of memory), `done` resolves with a final
// 'finished' or 'failed' event: a dead engine is never a hang.
import { EngineEventSchema, type EngineCommandInput, type EngineEvent } from '../../../src-shared/engine-messages';
import { forkTransport, hostChild, moduleEntry, type ChildTransport, type Death } from './child-host';

export type FinalEvent = Extract<EngineEvent, { type: 'finished' | 'failed' }>;

export interface EngineHandle {
  send(command: EngineCommandInput): void;
  /** Resolves with the last event of the run. */
  done: Promise<FinalEvent>;
  pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
}

/** The engine behind any transport (a forked process here, a utilityProcess in Electron). */
export function hostEngine(child: ChildTransport, onEvent: (event: EngineEvent) => void): EngineHandle {
  const host = hostChild<EngineCommandInput, EngineEvent>(child, {
    events: EngineEventSchema,
    isReady: (e) => e.type === 'ready',
    isFinal: (e) => e.type === 'finished' || e.type === 'failed',
    onEvent,
    onInvalid: (description) => onEvent({ type: 'log', level: 'warn', message: `engine sent an invalid event: ${description}` }),
    died: (d: Death) => ({
      type: 'failed',
      kind: 'engine-died',
      message: `the engine process ended without finishing the run (${d.how})${d.outOfMemory ? ', out of memory' : ''}${d.lastLine ? `: ${d.lastLine}` : ''}`,
    }),
  });
  return {
    send: (command) => host.send(command),
    done: host.done as Promise<FinalEvent>,
    get pid() {
      return host.pid;
    },
    kill: (signal) => host.kill(signal),
  };
}

export function startEngine(onEvent: (event: EngineEvent) => void, options: { env?: NodeJS.ProcessEnv } = {}): EngineHandle {
  return hostEngine(forkTransport(moduleEntry(__dirname, 'worker'), options.env ?? process.env), onEvent);
}
