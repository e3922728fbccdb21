// The machine's own ceiling for N threads: N processes, each timing the one-thread step on its own
// minibatch at the same moment, with nothing exchanged. Their summed images/s over N = 1's says how
// far N cores go on this machine (shared memory bandwidth and caches, a host's other tenants), so
// the data-parallel engine's efficiency can be read against what the hardware allows.
import { fork } from 'node:child_process';
import type { Method } from '../../../src-shared/config';
import { moduleEntry } from '../../../src-main/engine/process/child-host';

interface SoloResult {
  imagesPerSecond: number;
}

/** One process per N; each waits for 'go' so that all time their steps together. */
export async function independentSteps(o: { method: Method; batch: number; steps: number; processes: number; backend: string }): Promise<number> {
  const entry = moduleEntry(__dirname, 'solo-step');
  const children = Array.from({ length: o.processes }, () =>
    fork(entry.file, [o.method, String(o.batch), String(o.steps), o.backend], { execArgv: entry.typescript ? ['--import', 'tsx'] : [], stdio: 'pipe' }));
  try {
    const ready = children.map((c) => new Promise<void>((resolve, reject) => {
      c.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`solo step: ${String(m)}`))));
      c.once('exit', (code) => reject(new Error(`solo step exited with ${code} before it was ready`)));
    }));
    await Promise.all(ready);
    const results = children.map((c) => new Promise<SoloResult>((resolve, reject) => {
      c.once('message', (m) => resolve(m as SoloResult));
      c.once('exit', (code) => reject(new Error(`solo step exited with ${code}`)));
    }));
    for (const c of children) c.send('go');
    return (await Promise.all(results)).reduce((sum, r) => sum + r.imagesPerSecond, 0);
  } finally {
    for (const c of children) c.kill();
  }
}
