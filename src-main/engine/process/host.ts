// Starts the engine in its own process and turns its life into typed events. Whatever happens to
// the process (a clean end, a crash, SIGKILL, running out of memory), `done` resolves with a final
// 'finished' or 'failed' event: a dead engine is never a hang.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineEventSchema, type EngineCommandInput, type EngineEvent } from '../../../src-shared/engine-messages';
import { describeZodError } from '../../../src-shared/config';

export type FinalEvent = Extract<EngineEvent, { type: 'finished' | 'failed' }>;

export interface EngineHandle {
  send(command: EngineCommandInput): void;
  /** Resolves with the last event of the run. */
  done: Promise<FinalEvent>;
  pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
}

/** The compiled worker beside this file; under the test runner, the TypeScript source through tsx. */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, 'worker.js');
  if (fs.existsSync(js)) return { file: js, execArgv: [] };
  return { file: path.join(__dirname, 'worker.ts'), execArgv: ['--import', 'tsx'] };
}

const STDERR_TAIL = 4000;

export function startEngine(onEvent: (event: EngineEvent) => void, options: { env?: NodeJS.ProcessEnv } = {}): EngineHandle {
  const { file, execArgv } = workerEntry();
  const child: ChildProcess = fork(file, [], { execArgv, env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });

  let final: FinalEvent | null = null;
  // Commands wait for the worker's 'ready': before it listens, a message could be lost.
  let queue: EngineCommandInput[] | null = [];
  const done = new Promise<FinalEvent>((resolve) => {
    child.on('message', (raw) => {
      const parsed = EngineEventSchema.safeParse(raw);
      if (!parsed.success) {
        onEvent({ type: 'log', level: 'warn', message: `engine sent an invalid event: ${describeZodError(parsed.error)}` });
        return;
      }
      const event = parsed.data;
      if (event.type === 'ready' && queue) {
        for (const command of queue) child.send(command);
        queue = null;
      }
      if (event.type === 'finished' || event.type === 'failed') final = event;
      onEvent(event);
    });
    child.on('exit', (code, signal) => {
      if (final) return resolve(final);
      const lastLine = stderr.trim().split('\n').filter((l) => l.trim()).slice(-1)[0];
      const oom = signal === 'SIGKILL' || /heap out of memory|OOM/i.test(stderr);
      const event: FinalEvent = {
        type: 'failed',
        kind: 'engine-died',
        message: `the engine process ended without finishing the run (${signal ? `signal ${signal}` : `exit code ${code}`})${oom && /memory/i.test(stderr) ? ', out of memory' : ''}${lastLine ? `: ${lastLine}` : ''}`,
      };
      onEvent(event);
      resolve(event);
    });
  });

  return {
    send: (command) => {
      if (queue) queue.push(command);
      else if (child.connected) child.send(command);
    },
    done,
    pid: child.pid,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}
