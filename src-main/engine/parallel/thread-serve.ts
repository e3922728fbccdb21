// The thread side of a ThreadLink: commands are parsed with their schema and answered one at a
// time, in order (the coordinator waits for each reply anyway); a command that throws is answered
// with `failed`, so the coordinator's call rejects with the thread's own message.
import { parentPort } from 'node:worker_threads';
import type { z } from 'zod';
import { describeZodError } from '../../../src-shared/config';
import type { ThreadFailure } from './thread-link';

/** `aborted(err)`: the command stopped only because another worker failed first. */
export function serveCommands<Command, Event>(
  commands: z.ZodType<Command>, events: z.ZodType<Event>, handle: (cmd: Command) => Promise<Event>, aborted: (err: unknown) => boolean = () => false,
): void {
  if (!parentPort) throw new Error('this module runs as a worker thread');
  const port = parentPort;
  const emit = (event: Event | ThreadFailure | { type: 'ready' }) => port.postMessage(events.parse(event));
  let queue = Promise.resolve();
  port.on('message', (raw) => {
    queue = queue.then(async () => {
      const parsed = commands.safeParse(raw);
      if (!parsed.success) return emit({ type: 'failed', message: `invalid command: ${describeZodError(parsed.error)}`, aborted: false });
      try {
        emit(await handle(parsed.data));
      } catch (err) {
        emit({ type: 'failed', message: err instanceof Error ? err.message : String(err), aborted: aborted(err) });
      }
    });
  });
  emit({ type: 'ready' });
}
