// A reader (the UI) polling while another process records runs never sees half of a write: every
// epoch it sees has all its exits, and a run's summary agrees with its epochs.
import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { openStore } from '../../src-main/store/run-store';
import { tempHome } from '../unit/store/fixtures';

function startWriter(home: string, runs: number, epochs: number, prefix: string): Promise<number | null> {
  const writer = fork(path.join(__dirname, 'store-writer.fixture.ts'), [home, String(runs), String(epochs), prefix], {
    execArgv: ['--import', 'tsx'], stdio: 'inherit',
  });
  return new Promise((resolve) => writer.on('exit', (code) => resolve(code)));
}

describe('store under a concurrent writer', () => {
  it('readers see whole writes only', async () => {
    const home = tempHome();
    openStore(home).close();
    const exited = startWriter(home, 4, 40, 'w');
    let running = true;
    void exited.then(() => { running = false; });

    const reader = openStore(home);
    let checks = 0;
    let sawPartialRun = false;
    try {
      while (running) {
        for (const summary of reader.listRuns()) {
          const run = reader.getRun(summary.id);
          for (const e of run.epochs) expect(e.exits.map((x) => x.exit)).toEqual([0, 1, 2, 3, 4, 5, 6]);
          expect(run.summary.epochsDone).toBe(run.epochs.length ? run.epochs[run.epochs.length - 1].epoch : 0);
          if (run.summary.status === 'running' && run.epochs.length > 0) sawPartialRun = true;
          checks++;
        }
        await new Promise((r) => setImmediate(r));
      }
      expect(await exited).toBe(0);
      const all = reader.listRuns();
      expect(all).toHaveLength(4);
      for (const r of all) expect(reader.getRun(r.id).epochs).toHaveLength(40);
      expect(reader.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      reader.close();
    }
    expect(checks).toBeGreaterThan(0);
    // The reader really overlapped the writer (else the test proves nothing).
    expect(sawPartialRun).toBe(true);
  });

  it("two processes recording runs at once both succeed (each waits for the other's write lock)", async () => {
    const home = tempHome();
    openStore(home).close();
    // Two trainings started from two terminals on one data folder.
    const codes = await Promise.all([startWriter(home, 3, 30, 'a'), startWriter(home, 3, 30, 'b')]);
    expect(codes).toEqual([0, 0]);
    const store = openStore(home);
    try {
      expect(store.listRuns().map((r) => r.id).sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
      for (const r of store.listRuns()) expect(store.getRun(r.id).epochs).toHaveLength(30);
    } finally {
      store.close();
    }
  });
});
