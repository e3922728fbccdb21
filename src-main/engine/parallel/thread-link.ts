// One worker thread as its coordinator sees it (the training ThreadGroup, the evaluation pool):
// every command gets exactly one reply, in order, or a rejection. The thread runs under the one
// host (process/child-host.ts), so a thread that dies (a crash, running out of memory,
// terminate()) rejects every call in flight instead of leaving it waiting: never a hang.
import type { z } from 'zod';
import { hostChild, moduleEntry, threadTransport, type ChildHost } from '../process/child-host';

/** A worker's failure, or its death; `aborted`: it only stopped because another one failed. */
class ThreadFailedError extends Error {
  constructor(message: string, readonly aborted: boolean) {
    super(message);
  }
}

/** The events every thread sends besides its replies (thread-serve.ts sends them). */
export type ThreadFailure = { type: 'failed'; message: string; aborted: boolean };

type Reply<E, T> = Extract<E, { type: T }>;

export class ThreadLink<Command extends { type: string }, Event extends { type: string }> {
  private readonly pending: Array<{ resolve(e: Event): void; reject(err: Error): void }> = [];
  private death: string | null = null;
  private readonly host: ChildHost<Command, Event>;

  /**
   * Starts the thread whose entry is module `entry` beside `dir`. `name` ("training worker 2 of 4")
   * opens its error messages; `onFailure` runs as soon as it fails or dies on its own account.
   */
  constructor(readonly name: string, dir: string, entry: string, events: z.ZodType<Event>, onFailure: () => void = () => {}) {
    this.host = hostChild<Command, Event>(threadTransport(moduleEntry(dir, entry)), {
      events,
      isReady: (e) => e.type === 'ready',
      isFinal: () => false,
      onInvalid: (description) => this.fail(`${name} sent an invalid message: ${description}`, false),
      died: (d) => {
        this.death = `${name} died (${d.how})${d.outOfMemory ? ', out of memory' : ''}${d.lastLine ? `: ${d.lastLine}` : ''}`;
        onFailure();
        // Every thread's events include ThreadFailure (thread-serve.ts sends it), but `Event` is a type
        // parameter known only to have a `type`, so TypeScript cannot see that a ThreadFailure is one.
        return { type: 'failed', message: this.death, aborted: false } satisfies ThreadFailure as unknown as Event;
      },
      onEvent: (e) => {
        if (e.type === 'ready') return;
        if (e.type === 'failed') {
          // The other way round: `e.type === 'failed'` does not narrow a type parameter to ThreadFailure.
          const f = e as unknown as ThreadFailure;
          if (!f.aborted) onFailure();
          return this.fail(this.death ?? `${name}: ${f.message}`, f.aborted);
        }
        this.pending.shift()?.resolve(e);
      },
    });
  }

  call<T extends Event['type']>(command: Command, expect: T): Promise<Reply<Event, T>> {
    if (this.death) return Promise.reject(new ThreadFailedError(this.death, false));
    return new Promise<Event>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.host.send(command);
    }).then((e) => {
      if (e.type !== expect) throw new ThreadFailedError(`${this.name} answered '${e.type}' to '${command.type}'`, false);
      return e as Reply<Event, T>;
    });
  }

  /** A death fails every call in flight; a failed command fails only its own. */
  private fail(message: string, aborted: boolean): void {
    const err = new ThreadFailedError(message, aborted);
    if (this.death) this.pending.splice(0).forEach((p) => p.reject(err));
    else this.pending.shift()?.reject(err);
  }

  /** Ends the thread abruptly, as a crash would. */
  kill(): void {
    this.host.kill();
  }

  async close(): Promise<void> {
    this.death ??= 'closed';
    this.host.kill();
    await this.host.done;
  }
}

/**
 * Every worker's reply, in order. When some fail, the error is the first that is a worker's own
 * failure rather than an abort it suffered because of another.
 */
export async function allReplies<T>(calls: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(calls);
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  if (errors.length) throw errors.find((e) => !(e instanceof ThreadFailedError && e.aborted)) ?? errors[0];
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
