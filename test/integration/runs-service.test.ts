// The run service end to end with the real engine process on the synthetic set: a recorded run,
// an engine SIGKILLed in the middle of an epoch and resumed to the same result as an uninterrupted
// run, and a run whose owning process died being marked interrupted at the next start.
import { afterAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfigInput } from '../../src-shared/config';
import type { EngineEvent } from '../../src-shared/engine-messages';
import { RunDetailSchema } from '../../src-shared/runs';
import { readCheckpoint } from '../../src-main/engine/train/checkpoint';
import { checkpointPaths } from '../../src-main/engine/train/trainer';
import { CHECKPOINT_FILES } from '../../src-main/runs/paths';
import { RunService, RunStateError } from '../../src-main/runs/service';
import { UnknownRunError } from '../../src-main/store/run-store';

export const TINY: TrainConfigInput = {
  dataset: 'synthetic',
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16,
  trainSamples: 64,
  evalSamples: 16,
  epochs: 2,
  maxBatchesPerEpoch: 4,
  backend: 'wasm',
  seed: 11,
};
const config = (extra: TrainConfigInput = {}) => TrainConfigSchema.parse({ ...TINY, ...extra });
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-runs-'));
const service = new RunService({ home });
afterAll(() => service.close());

/** Metrics that must match bit for bit between an interrupted-and-resumed run and an uninterrupted one. */
const deterministic = (detail: ReturnType<RunService['store']['getRun']>) => detail.epochs.map((e) => ({
  epoch: e.epoch, lr: e.lr, exits: e.exits, probe: e.probe,
}));

describe('run service', () => {
  it('agrees with the trainer on checkpoint file names', () => {
    const paths = checkpointPaths('/r');
    expect([path.basename(paths.last), path.basename(paths.best)]).toEqual([CHECKPOINT_FILES.last, CHECKPOINT_FILES.best]);
  });

  let reference = '';
  it('records a run: status, backend, per-epoch metrics, checkpoints, data set; listeners see every event', { timeout: 300_000 }, async () => {
    const seen: EngineEvent['type'][] = [];
    const off = service.onEvent((id, e) => id === run.runId && seen.push(e.type));
    const run = service.start(config(), { tags: ['reference'] });
    reference = run.runId;
    expect(service.store.getRun(run.runId).summary.status).toMatch(/queued|running/);
    const outcome = await run.done;
    off();
    expect(outcome.final).toMatchObject({ type: 'finished', status: 'completed' });
    const detail = RunDetailSchema.parse(service.store.getRun(run.runId));
    expect(detail.summary).toMatchObject({ status: 'completed', backendUsed: 'wasm', epochsDone: 2, tags: ['reference'], failure: null });
    expect(detail.summary.codeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(detail.summary.seconds).toBeGreaterThan(0);
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(detail.epochs[1].exits).toHaveLength(2);
    expect(detail.checkpoints.find((c) => c.kind === 'last')).toMatchObject({ epoch: 2, path: 'last.ckpt' });
    expect(detail.modelSummary?.exits).toBe(2);
    expect(detail.dataset?.id).toBe('synthetic');
    expect(seen).toEqual(expect.arrayContaining(['started', 'progress', 'epoch', 'checkpoint', 'finished']));
  });

  it('resumes an engine SIGKILLed mid-epoch: no metric row lost or duplicated, same result as uninterrupted', { timeout: 300_000 }, async () => {
    const run = service.start(config());
    let killed = false;
    const off = service.onEvent((id, e) => {
      if (id === run.runId && !killed && e.type === 'progress' && e.epoch === 2 && e.phase === 'train' && e.batch >= 2) {
        killed = true;
        process.kill(run.pid!, 'SIGKILL');
      }
    });
    const outcome = await run.done;
    off();
    expect(killed).toBe(true);
    expect(outcome.final).toMatchObject({ type: 'failed', kind: 'engine-died' });
    const crashed = service.store.getRun(run.runId);
    expect(crashed.summary.status).toBe('interrupted');
    expect(crashed.epochs.map((e) => e.epoch)).toEqual([1]);
    // The checkpoint is the last complete one: the end of epoch 1.
    expect(readCheckpoint(path.join(run.runDir, 'last.ckpt'))).toMatchObject({ epoch: 1, batchesDone: 0 });
    expect(crashed.checkpoints.find((c) => c.kind === 'last')?.epoch).toBe(1);
    expect(service.store.db.pragma('integrity_check', { simple: true })).toBe('ok');

    const resumed = service.resume(run.runId);
    const final = await resumed.done;
    expect(final.final).toMatchObject({ type: 'finished', status: 'completed', epochs: 2 });
    const after = service.store.getRun(run.runId);
    expect(after.summary.status).toBe('completed');
    expect(service.store.db.prepare('SELECT epoch, COUNT(*) AS exits FROM exit_metrics WHERE run_id = ? GROUP BY epoch').all(run.runId)).toEqual([
      { epoch: 1, exits: 2 }, { epoch: 2, exits: 2 },
    ]);
    expect(deterministic(after)).toEqual(deterministic(service.store.getRun(reference)));
    const a = readCheckpoint(path.join(run.runDir, 'last.ckpt'));
    const b = readCheckpoint(path.join(home, 'runs', reference, 'last.ckpt'));
    a.weights.forEach((w, i) => expect(Buffer.compare(Buffer.from(w.data.buffer), Buffer.from(b.weights[i].data.buffer)), w.name).toBe(0));
    expect(service.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('marks a run interrupted at the next start when the process that owned it died', { timeout: 300_000 }, async () => {
    const owner = fork(path.join(__dirname, 'runs-owner.fixture.ts'), [home, JSON.stringify(config({ epochs: 3 }))], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const started = await new Promise<{ runId: string; enginePid: number }>((resolve) =>
      owner.on('message', (m) => resolve(m as { runId: string; enginePid: number })));
    const exited = new Promise((r) => owner.on('exit', r));
    owner.kill('SIGKILL');
    await exited;
    try {
      process.kill(started.enginePid, 'SIGKILL');
    } catch {
      // The engine noticed its owner was gone and ended by itself.
    }
    expect(service.store.getRun(started.runId).summary.status).toMatch(/queued|running/);
    const next = new RunService({ home });
    try {
      expect(next.interruptedAtStart).toContain(started.runId);
      expect(next.store.getRun(started.runId).summary).toMatchObject({ status: 'interrupted', failure: { kind: 'engine-died' } });
      expect(next.interruptedAtStart).not.toContain(reference);
    } finally {
      await next.close();
    }
  });

  it('refuses what cannot be done, with a clear error and nothing changed', () => {
    expect(() => service.resume('no-such-run')).toThrow(UnknownRunError);
    expect(() => service.resume(reference)).toThrow(RunStateError);
    expect(() => service.resume(reference)).toThrow(/completed/);
    expect(() => service.control(reference, 'stop')).toThrow(/not running/);
    expect(() => service.delete('no-such-run')).toThrow(/unknown run 'no-such-run'/);
    expect(service.store.getRun(reference).summary.status).toBe('completed');
  });

  it('deletes a run with its folder', () => {
    const victim = service.store.listRuns({ status: 'completed' }).find((r) => r.id !== reference)!;
    const dir = path.join(home, 'runs', victim.id);
    expect(fs.existsSync(dir)).toBe(true);
    service.delete(victim.id);
    expect(fs.existsSync(dir)).toBe(false);
    expect(service.store.hasRun(victim.id)).toBe(false);
    expect(fs.readdirSync(path.join(home, 'tmp'))).toEqual([]);
  });
});
