// The engine in an Electron utilityProcess (Chromium's sandboxed service process for Node work)
// instead of child_process.fork, with the guarantees of the engine host: every event validated,
// commands held until the worker is ready, and an engine that dies without a final event ending
// as a 'failed' event rather than a hang.
import * as path from 'node:path';
import { utilityProcess } from 'electron';
import { EngineEventSchema, type EngineCommandInput, type EngineEvent } from '../../src-shared/engine-messages';
import { describeZodError } from '../../src-shared/config';
import type { EngineHandle, FinalEvent } from '../engine/process/host';

const STDERR_TAIL = 4000;

export function startUtilityEngine(onEvent: (event: EngineEvent) => void, options: { env?: NodeJS.ProcessEnv } = {}): EngineHandle {
  const worker = path.join(__dirname, '..', 'engine', 'process', 'worker.js');
  const child = utilityProcess.fork(worker, [], { serviceName: 'ExitLab engine', stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  let final: FinalEvent | null = null;
  let queue: EngineCommandInput[] | null = [];
  let alive = true;
  const done = new Promise<FinalEvent>((resolve) => {
    child.on('message', (raw: unknown) => {
      const parsed = EngineEventSchema.safeParse(raw);
      if (!parsed.success) {
        onEvent({ type: 'log', level: 'warn', message: `engine sent an invalid event: ${describeZodError(parsed.error)}` });
        return;
      }
      const event = parsed.data;
      if (event.type === 'ready' && queue) {
        for (const command of queue) child.postMessage(command);
        queue = null;
      }
      if (event.type === 'finished' || event.type === 'failed') final = event;
      onEvent(event);
    });
    child.on('exit', (code: number) => {
      alive = false;
      if (final) return resolve(final);
      const lastLine = stderr.trim().split('\n').filter((l) => l.trim()).slice(-1)[0];
      const event: FinalEvent = {
        type: 'failed',
        kind: 'engine-died',
        message: `the engine process ended without finishing the run (exit code ${code})${/out of memory/i.test(stderr) ? ', out of memory' : ''}${lastLine ? `: ${lastLine}` : ''}`,
      };
      onEvent(event);
      resolve(event);
    });
  });
  return {
    send: (command) => {
      if (queue) queue.push(command);
      else if (alive) child.postMessage(command);
    },
    done,
    get pid() {
      return child.pid;
    },
    kill: () => {
      child.kill();
    },
  };
}
