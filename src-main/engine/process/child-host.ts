// One way to run work in another process or thread: the engine process (child_process.fork or
// Electron's utilityProcess), the evaluation child, and the data-parallel training threads all go
// through `hostChild`. It validates every event against its schema, holds commands until the
// child says it is ready (before it listens, a message could be lost), keeps the tail of its
// stderr, and when the child dies without a final event, makes one up from how it died: a dead
// child is never a hang. Out-of-memory is recognised by the one detector (out-of-memory.ts).
import { fork, type Serializable } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { z } from 'zod';
import { describeZodError } from '../../../src-shared/config';
import { looksOutOfMemory } from './out-of-memory';

/** How a child ended, as its transport reports it. */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  /** An error the runtime raised for it (a worker thread's out-of-memory, a failed spawn). */
  error?: Error;
}

/** The moving parts of one kind of child: a forked process, a utilityProcess, a worker thread. */
export interface ChildTransport {
  post(message: unknown): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** Called once, when the child is gone. */
  onExit(listener: (exit: ChildExit) => void): void;
  stderr: NodeJS.ReadableStream | null;
  readonly pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
}

/** What the host knows about a death without a final event, for the event it makes up. */
export interface Death {
  /** `signal SIGKILL`, `exit code 1`. */
  how: string;
  outOfMemory: boolean;
  /** The last non-empty line of stderr (or the runtime's error), if any. */
  lastLine: string | null;
}

export interface HostOptions<Event> {
  events: z.ZodType<Event>;
  isReady(event: Event): boolean;
  /** The child's last word (`finished`, `failed`, `done`): after it, its exit is no failure. */
  isFinal(event: Event): boolean;
  onEvent(event: Event): void;
  /** A message that failed validation, described in one line. */
  onInvalid(description: string): void;
  /** The final event standing for a death without one. */
  died(death: Death): Event;
}

export interface ChildHost<Command, Event> {
  send(command: Command): void;
  /** Resolves with the child's final event, real or made up. */
  done: Promise<Event>;
  readonly pid: number | undefined;
  kill(signal?: NodeJS.Signals): void;
}

const STDERR_TAIL = 4000;

export function hostChild<Command, Event>(child: ChildTransport, options: HostOptions<Event>): ChildHost<Command, Event> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  let final: Event | null = null;
  let alive = true;
  let queue: Command[] | null = [];
  const done = new Promise<Event>((resolve) => {
    child.onMessage((raw) => {
      const parsed = options.events.safeParse(raw);
      if (!parsed.success) return options.onInvalid(describeZodError(parsed.error));
      const event = parsed.data;
      if (queue && options.isReady(event)) {
        for (const command of queue) child.post(command);
        queue = null;
      }
      if (options.isFinal(event)) final = event;
      options.onEvent(event);
    });
    child.onExit((exit) => {
      alive = false;
      if (final) return resolve(final);
      const text = [stderr, exit.error ? `${(exit.error as NodeJS.ErrnoException).code ?? ''} ${exit.error.message}` : ''].join('\n');
      const lastLine = text.trim().split('\n').filter((l) => l.trim()).slice(-1)[0]?.trim() ?? null;
      const how = exit.signal ? `signal ${exit.signal}` : exit.code !== null ? `exit code ${exit.code}` : 'an error';
      const event = options.died({ how, outOfMemory: looksOutOfMemory(text), lastLine });
      options.onEvent(event);
      resolve(event);
    });
  });
  return {
    send: (command) => {
      if (queue) queue.push(command);
      else if (alive) child.post(command);
    },
    done,
    get pid() {
      return child.pid;
    },
    kill: (signal) => child.kill(signal),
  };
}

/** A module's compiled file beside `dir`, or under the test runner its TypeScript source through tsx. */
export function moduleEntry(dir: string, name: string): { file: string; typescript: boolean } {
  const js = path.join(dir, `${name}.js`);
  if (fs.existsSync(js)) return { file: js, typescript: false };
  return { file: path.join(dir, `${name}.ts`), typescript: true };
}

/** A Node process started with child_process.fork, talking over its IPC channel. */
export function forkTransport(entry: { file: string; typescript: boolean }, env: NodeJS.ProcessEnv): ChildTransport {
  const child = fork(entry.file, [], { execArgv: entry.typescript ? ['--import', 'tsx'] : [], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let exitListener: ((exit: ChildExit) => void) | null = null;
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.on('exit', (code, signal) => exitListener?.({ code, signal, error: spawnError }));
  return {
    post: (m) => {
      if (child.connected) child.send(m as Serializable);
    },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => (exitListener = l),
    stderr: child.stderr,
    get pid() {
      return child.pid;
    },
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

/** A worker thread of this process; `kill` terminates it (threads take no signals). */
export function threadTransport(entry: { file: string; typescript: boolean }): ChildTransport {
  // Under the test runner the thread first registers tsx's require hook, then loads the source.
  const worker = entry.typescript
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry.file)});`, { eval: true, stderr: true })
    : new Worker(entry.file, { stderr: true });
  let error: Error | undefined;
  let exitListener: ((exit: ChildExit) => void) | null = null;
  worker.on('error', (err) => (error = err));
  worker.on('exit', (code) => exitListener?.({ code, signal: null, error }));
  // The thread's stderr is ours to read; pass it on, as a forked child's would reach the terminal.
  worker.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (l) => worker.on('message', l),
    onExit: (l) => (exitListener = l),
    stderr: worker.stderr,
    pid: undefined,
    kill: () => {
      void worker.terminate();
    },
  };
}
