// The engine process end to end, through the run service that owns it: a tiny run on the
// synthetic set, a stop that leaves a checkpoint and a bit-exact resume, a NaN loss and a killed
// engine ending as clear failures.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfigInput } from '../../src-shared/config';
import type { EngineEvent } from '../../src-shared/engine-messages';
import { startEngine } from '../../src-main/engine/process/host';
import { RunService } from '../../src-main/runs/service';
import { readCheckpoint } from '../../src-main/engine/train/checkpoint';
import { openDatabase } from '../../src-main/store/database';
import { openStore } from '../../src-main/store/run-store';
import { homePaths } from '../../src-main/home';

const TINY: TrainConfigInput = {
  dataset: 'synthetic',
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16,
  trainSamples: 64,
  evalSamples: 16,
  epochs: 2,
  backend: 'wasm',
  seed: 7,
};
const config = (extra: TrainConfigInput = {}) => TrainConfigSchema.parse({ ...TINY, ...extra });
const tempHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-engine-'));

async function train(home: string, cfg: ReturnType<typeof config>, onEvent: (e: EngineEvent) => void = () => {}, resumeRunId?: string) {
  const service = new RunService({ home });
  try {
    return await (resumeRunId ? service.resume(resumeRunId, { onEvent }) : service.start(cfg, { onEvent })).done;
  } finally {
    await service.close();
  }
}

describe('engine process', () => {
  it('trains, reports per-exit metrics each epoch and writes checkpoints', async () => {
    const home = tempHome();
    const events: EngineEvent[] = [];
    const outcome = await train(home, config(), (e) => events.push(e));
    expect(outcome.final).toMatchObject({ type: 'finished', status: 'completed', epochs: 2 });
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const e of epochs) {
      if (e.type !== 'epoch') continue;
      expect(e.metrics.exits).toHaveLength(2);
      for (const x of e.metrics.exits) {
        for (const v of [x.valCleanAcc, x.valFgsmAcc, x.valPgdAcc, x.trainAdvAcc, x.trainCleanAcc]) expect(v).toBeGreaterThanOrEqual(0);
        expect(x.fcWeightNorm).toBeGreaterThan(0);
        expect(x.valPgdAcc).toBeLessThanOrEqual(x.valCleanAcc + 1e-9 + 0.2);
      }
    }
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events.find((e) => e.type === 'started')).toMatchObject({ backend: { backend: 'wasm' } });
    expect(readCheckpoint(path.join(outcome.runDir, 'last.ckpt')).epoch).toBe(2);
  });

  it('stops on a consistent checkpoint and resumes to the same result as an uninterrupted run', async () => {
    const home = tempHome();
    const cfg = config({ maxBatchesPerEpoch: 4 });
    const full = await train(home, cfg);

    // Same run, stopped in the middle of epoch 2, then resumed.
    const service = new RunService({ home });
    let stopSent = false;
    const active = service.start(cfg, {
      onEvent: (e) => {
        if (!stopSent && e.type === 'progress' && e.epoch === 2 && e.phase === 'train' && e.batch >= 1) {
          stopSent = true;
          active.send({ type: 'stop' });
        }
      },
    });
    const stopped = (await active.done).final;
    await service.close();
    const runDir = active.runDir;
    expect(stopped).toMatchObject({ type: 'finished', status: 'stopped' });
    const ckpt = readCheckpoint(path.join(runDir, 'last.ckpt'));
    expect(ckpt.epoch).toBe(1);
    expect(ckpt.batchesDone).toBeGreaterThan(0);

    // As if the run's owner had been killed while epoch 1's metrics were on their way to the store
    // (the checkpoint is written meanwhile): the resume records them from the checkpoint.
    const db = openDatabase(homePaths(home).database);
    db.prepare('DELETE FROM epoch_metrics WHERE run_id = ? AND epoch = 1').run(active.runId);
    db.close();
    const resumed = await train(home, cfg, () => {}, active.runId);
    expect(resumed.final).toMatchObject({ type: 'finished', status: 'completed', epochs: 2 });
    const store = openStore(home);
    expect(store.getRun(active.runId).epochs.map((e) => e.epoch)).toEqual([1, 2]);
    store.close();
    const a = readCheckpoint(path.join(full.runDir, 'last.ckpt'));
    const b = readCheckpoint(path.join(runDir, 'last.ckpt'));
    a.weights.forEach((w, i) => expect(Buffer.compare(Buffer.from(w.data.buffer), Buffer.from(b.weights[i].data.buffer))).toBe(0));
    if (full.final.type === 'finished' && resumed.final.type === 'finished') {
      expect(resumed.final.final?.exits).toEqual(full.final.final?.exits);
    }
    // Three trainings in engine processes: about 20 s on an idle machine, up to 57 s measured on a
    // loaded one, too close to the default 60 s.
  }, 180_000);

  it('ends a diverging run as a nan-loss failure', async () => {
    const outcome = await train(tempHome(), config({ lr: { kind: 'piecewise', max: 1e12 }, epochs: 1 }));
    expect(outcome.final).toMatchObject({ type: 'failed', kind: 'nan-loss' });
  });

  it('reports a killed engine as failed, not as a hang', async () => {
    const home = tempHome();
    const engine = startEngine((e) => {
      if (e.type === 'progress') engine.kill('SIGKILL');
    });
    engine.send({ type: 'start', runId: 'killed', config: config(), runDir: path.join(home, 'runs', 'killed'), home, resume: false });
    const final = await engine.done;
    expect(final).toMatchObject({ type: 'failed', kind: 'engine-died' });
    if (final.type === 'failed') expect(final.message).toMatch(/SIGKILL/);
  });

  it('fails clearly on an unknown data set', async () => {
    const outcome = await train(tempHome(), config({ dataset: 'nope' }));
    expect(outcome.final).toMatchObject({ type: 'failed', kind: 'dataset' });
  });
});
