// A tiny study on a real (one-node) Slurm cluster: one job array of three runs; one task cancelled
// while it waits (scancel), one killed mid-run; their states; a collect that imports the finished run
// once; a second `study run` that submits only the two unfinished runs, the killed one resuming from
// its checkpoint; and a collect that brings the rest home. Bad input is refused before anything is
// written. Skips (saying why) where no cluster can be started, unless EXITLAB_REQUIRE_SLURM=1.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SlurmCell, TaskMarker } from '../../src-shared/slurm';
import { runCli } from '../helpers/cli';
import { testCluster } from '../helpers/slurm-cluster';
import { openStore } from '../../src-main/store/run-store';

const cluster = testCluster();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-slurm-study-'));
const home = path.join(root, 'home');
const shared = path.join(root, 'shared');
fs.mkdirSync(shared);
afterAll(() => {
  cluster.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const TRAIN = {
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16, trainSamples: 64, evalSamples: 16, epochs: 2, maxBatchesPerEpoch: 2, backend: 'wasm', workers: 1,
};
// Grid order is array order: on the node's 2 CPUs tasks 0 and 1 start, task 2 waits. The run to be
// killed mid-run has more epochs, so that it is still training after its first checkpoint.
const recipeFile = path.join(root, 'tiny.json');
fs.writeFileSync(recipeFile, JSON.stringify({
  name: 'tiny', dataset: 'synthetic', train: TRAIN,
  arms: [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero', train: { epochs: 4 } }, { method: 'fgsm-me', lambda: [0.2, 0.2], label: 'heavy' }],
  seeds: [0], eval: { attacks: ['clean', 'pgd20'], samples: 16, calibrationSamples: 32, backend: 'wasm' },
}));
const [DONE, KILLED, CANCELLED] = ['fgsm-me-s0', 'fgsm-me-lambda-0-s0', 'heavy-s0'];
const SUBMIT = ['--on', 'slurm', '--shared-dir', shared, '--cpus-per-task', '1', '--time', '10'];

const taskDir = (key: string) => path.join(shared, 'studies', 'tiny', 'tasks', key);
const marker = (key: string): TaskMarker | null => {
  try {
    return JSON.parse(fs.readFileSync(path.join(taskDir(key), 'marker.json'), 'utf8')) as TaskMarker;
  } catch {
    return null;
  }
};
const slurmStates = async () => {
  const r = await runCli(home, ['study', 'status', 'tiny', '--json']);
  expect(r.code, r.err).toBe(0);
  return Object.fromEntries((JSON.parse(r.out) as Array<{ key: string; state: string; slurm: SlurmCell }>).map((c) => [c.key, c]));
};
async function until<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 240_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const settled = (states: Record<string, { slurm: SlurmCell }>) => Object.values(states).every((c) => !['pending', 'running'].includes(c.slurm.state));
const storedRuns = () => {
  const store = openStore(home);
  try {
    return store.listRuns().map((r) => ({
      id: r.id, status: r.status, evaluations: store.getRun(r.id).evaluations.length, epochs: store.getRun(r.id).epochs.map((e) => e.epoch),
    }));
  } finally {
    store.close();
  }
};

describe.skipIf(cluster.skip !== null)('a study on Slurm', () => {
  it('refuses an unknown partition before anything is written, and a dry run writes and submits nothing', async () => {
    const bad = await runCli(home, ['study', 'run', recipeFile, ...SUBMIT, '--partition', 'nosuch']);
    expect(bad.code).toBe(1);
    expect(bad.err).toBe("exitlab study: error: unknown partition 'nosuch' (partitions: debug)");
    const dry = await runCli(home, ['study', 'run', recipeFile, ...SUBMIT, '--dry-run', '--sbatch-arg=--nice=10']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('#SBATCH --array=0-2\n');
    expect(dry.out).toContain('#SBATCH --nice=10\n');
    expect(dry.out).toContain(`  1) exec node ${path.resolve(__dirname, '../..')}/bin/exitlab.js study task tiny --cell ${KILLED} --shared-dir ${shared} ;;`);
    expect(fs.existsSync(path.join(home, 'studies'))).toBe(false);
    expect(fs.readdirSync(shared)).toEqual([]);
  });

  it('runs the grid as one job array: a task cancelled while it waits, one killed mid-run, one finished and collected once', async () => {
    const submitted = await runCli(home, ['study', 'run', recipeFile, ...SUBMIT, '--json']);
    expect(submitted.code, submitted.err).toBe(0);
    const first = JSON.parse(submitted.out) as { jobId: string; cells: string[] };
    expect(first.cells).toEqual([DONE, KILLED, CANCELLED]);
    execFileSync('scancel', [`${first.jobId}_2`]);

    const killedRun = await until('the run to kill to write its first checkpoint', () => {
      const m = marker(KILLED);
      return m?.state === 'running' && m.epochsDone >= 1 ? m : null;
    });
    process.kill(killedRun.pid, 'SIGKILL');
    const states = await until('every task to end', async () => {
      const s = await slurmStates();
      return settled(s) ? s : null;
    });
    expect(Object.fromEntries(Object.entries(states).map(([k, c]) => [k, c.slurm.state])))
      .toEqual({ [DONE]: 'completed', [KILLED]: 'failed', [CANCELLED]: 'cancelled' });
    expect(states[CANCELLED].slurm.job).toBe(`${first.jobId}_2`);

    const collect = await runCli(home, ['study', 'collect', 'tiny', '--json']);
    expect(collect.code, collect.err).toBe(0);
    expect(JSON.parse(collect.out)).toMatchObject({ imported: [{ key: DONE }], alreadyCollected: [], skipped: [], waiting: [KILLED, CANCELLED] });
    const again = await runCli(home, ['study', 'collect', 'tiny', '--json']);
    expect(JSON.parse(again.out)).toMatchObject({ imported: [], alreadyCollected: [DONE] });
    expect(storedRuns()).toHaveLength(1);

    // Only the unfinished runs go again; the killed one continues the run it had, from its checkpoint.
    const resubmitted = await runCli(home, ['study', 'run', 'tiny', '--on', 'slurm', '--json']);
    expect(resubmitted.code, resubmitted.err).toBe(0);
    const second = JSON.parse(resubmitted.out) as { jobId: string; indices: number[]; finished: string[] };
    expect(second.indices).toEqual([1, 2]);
    expect(second.finished).toEqual([DONE]);
    const done = await until('the resubmitted tasks to end', async () => {
      const s = await slurmStates();
      return settled(s) ? s : null;
    });
    expect(Object.values(done).map((c) => c.slurm.state)).toEqual(['completed', 'completed', 'completed']);
    const log = fs.readFileSync(path.join(shared, 'studies', 'tiny', 'logs', `${second.jobId}_1.out`), 'utf8');
    expect(log).toContain(`${KILLED} (run ${killedRun.runId}): resuming — from its last checkpoint (it was interrupted)`);
    expect(Number(/training from epoch (\d+) of 4/.exec(log)?.[1])).toBeGreaterThanOrEqual(2);

    const rest = await runCli(home, ['study', 'collect', 'tiny', '--json']);
    expect(JSON.parse(rest.out)).toMatchObject({
      imported: [{ key: KILLED, runId: killedRun.runId }, { key: CANCELLED }], alreadyCollected: [DONE], skipped: [], waiting: [],
    });
    const runs = storedRuns();
    expect(runs).toHaveLength(3);
    for (const r of runs) expect(r).toMatchObject({ status: 'completed', evaluations: 2 });
    expect(runs.find((r) => r.id === killedRun.runId)!.epochs).toEqual([1, 2, 3, 4]);
    expect(Object.values(await slurmStates()).map((c) => c.state)).toEqual(['evaluated', 'evaluated', 'evaluated']);
    const table = await runCli(home, ['table', '--study', 'tiny']);
    expect(table.code, table.err).toBe(0);
    expect(table.out.split('\n').filter((l) => l.includes('| run-'))).toHaveLength(3);
  }, 600_000);
});
