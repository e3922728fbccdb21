// The one host for child processes and threads: commands held until 'ready', every event
// validated, a death without a final event turned into one, out-of-memory recognised from stderr.
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { z } from 'zod';
import { forkTransport, hostChild } from '../../../src-main/engine/process/child-host';

const Event = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('final'), value: z.number() }),
  z.object({ type: z.literal('died'), how: z.string(), oom: z.boolean(), line: z.string().nullable() }),
]);
type Event = z.infer<typeof Event>;

function host(mode: string) {
  const events: Event[] = [];
  const invalid: string[] = [];
  const fixture = { file: path.join(__dirname, '../../helpers/child-host-fixture.cjs'), typescript: false };
  const child = hostChild<{ value: number }, Event>(forkTransport(fixture, { ...process.env, FIXTURE_MODE: mode }), {
    events: Event,
    isReady: (e) => e.type === 'ready',
    isFinal: (e) => e.type === 'final',
    onEvent: (e) => events.push(e),
    onInvalid: (d) => invalid.push(d),
    died: (d) => ({ type: 'died', how: d.how, oom: d.outOfMemory, line: d.lastLine }),
  });
  return { child, events, invalid };
}

describe('child host', () => {
  it('holds a command until the child is ready, reports invalid events, and ends with the final one', async () => {
    const { child, events, invalid } = host('echo');
    child.send({ value: 42 });
    expect(await child.done).toEqual({ type: 'final', value: 42 });
    expect(events.map((e) => e.type)).toEqual(['ready', 'final']);
    expect(invalid).toHaveLength(1);
  });

  it('turns a death without a final event into one, recognising out-of-memory on stderr', async () => {
    const { child } = host('oom');
    expect(await child.done).toEqual({
      type: 'died', how: 'exit code 134', oom: true, line: 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
    });
  });

  it('a killed child ends the same way, naming the signal', async () => {
    const { child } = host('idle');
    setTimeout(() => child.kill('SIGKILL'), 300);
    expect(await child.done).toMatchObject({ type: 'died', how: 'signal SIGKILL', oom: false });
  });
});
