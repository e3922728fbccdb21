// The engine in an Electron utilityProcess (Chromium's sandboxed service process for Node work)
// instead of child_process.fork, with the same host as everywhere else (engine/process/child-host):
// every event validated, commands held until the worker is ready, and an engine that dies without
// a final event ending as a 'failed' event rather than a hang.
import * as path from 'node:path';
import { utilityProcess } from 'electron';
import type { EngineEvent } from '../../src-shared/engine-messages';
import type { ChildExit, ChildTransport } from '../engine/process/child-host';
import { hostEngine, type EngineHandle } from '../engine/process/host';

function utilityTransport(file: string, env: NodeJS.ProcessEnv): ChildTransport {
  const child = utilityProcess.fork(file, [], { serviceName: 'ExitLab engine', stdio: ['ignore', 'ignore', 'pipe'], env });
  let alive = true;
  let exitListener: ((exit: ChildExit) => void) | null = null;
  child.on('exit', (code: number) => {
    alive = false;
    exitListener?.({ code, signal: null });
  });
  return {
    post: (m) => {
      if (alive) child.postMessage(m);
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => (exitListener = l),
    stderr: child.stderr,
    get pid() {
      return child.pid;
    },
    kill: () => {
      child.kill();
    },
  };
}

export function startUtilityEngine(onEvent: (event: EngineEvent) => void, options: { env?: NodeJS.ProcessEnv } = {}): EngineHandle {
  const worker = path.join(__dirname, '..', 'engine', 'process', 'worker.js');
  return hostEngine(utilityTransport(worker, options.env ?? process.env), onEvent);
}
