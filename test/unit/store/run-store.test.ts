import { afterEach, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { openStore, RunStore, StoreError, UnknownRunError } from '../../../src-main/store/run-store';
import { RunDetailSchema, RunSummarySchema } from '../../../src-shared/runs';
import { config, epochMetrics, manifest, modelSummary, tempHome } from './fixtures';

let store: RunStore | null = null;
afterEach(() => store?.close());

function fresh(): RunStore {
  store = openStore(tempHome());
  return store;
}

describe('run store', () => {
  it('opens in WAL mode at the current schema version with foreign keys on', () => {
    const s = fresh();
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(4);
  });

  it('records a run through its life and reads back the full history', () => {
    const s = fresh();
    s.upsertDataset(manifest());
    s.createRun({ id: 'r1', name: 'baseline λ', config: config(), codeVersion: '0.1.0+abc', ownerPid: process.pid });
    expect(s.listRuns()[0]).toMatchObject({ id: 'r1', status: 'queued', epochsDone: 0, lastEpoch: null, backendUsed: null });
    s.recordStarted('r1', { backendUsed: 'cpu', modelSummary: modelSummary(), startEpoch: 1, ownerPid: process.pid });
    s.recordEpoch('r1', epochMetrics(1));
    s.recordCheckpoint('r1', { kind: 'last', epoch: 1, path: 'last.ckpt' });
    s.recordEpoch('r1', epochMetrics(2));
    s.recordCheckpoint('r1', { kind: 'last', epoch: 2, path: 'last.ckpt' });
    s.recordCheckpoint('r1', { kind: 'best', epoch: 2, path: 'best.ckpt' });
    s.finishRun('r1', { status: 'completed', seconds: 42, epochsDone: 2 });
    s.addEvaluation('r1', {
      attack: 'pgd', eps: 8, steps: 20, samples: 100, perExitAcc: [0.2, 0.3, 0.4],
      earlyExit: { thresholds: [0.9, 0.8, 0], accuracy: 0.35, averageMacs: 1500, exitShare: [0.5, 0.3, 0.2] },
    });
    s.addArtefact('r1', { kind: 'export-onnx', path: '/tmp/x', meta: { exit: null } });
    s.tag('r1', ['baseline', 'cifar']);
    s.setNote('r1', 'first try');

    const detail = RunDetailSchema.parse(s.getRun('r1'));
    expect(detail.summary).toMatchObject({
      name: 'baseline λ', status: 'completed', seconds: 42, epochsDone: 2, backendUsed: 'cpu', codeVersion: '0.1.0+abc', tags: ['baseline', 'cifar'],
      failure: null,
    });
    expect(detail.summary.lastEpoch?.valCleanAcc).toEqual(epochMetrics(2).exits.map((e) => e.valCleanAcc));
    expect(detail.epochs).toEqual([epochMetrics(1), epochMetrics(2)]);
    expect(detail.config).toEqual(config());
    expect(detail.modelSummary).toEqual(modelSummary());
    expect(detail.dataset?.classes).toEqual(['a', 'b', 'c']);
    expect(detail.checkpoints.map((c) => [c.kind, c.epoch])).toEqual([['last', 2], ['best', 2]]);
    expect(detail.evaluations[0]).toMatchObject({ attack: 'pgd', perExitAcc: [0.2, 0.3, 0.4], checkpoint: 'last', earlyExit: { accuracy: 0.35 } });
    expect(detail.artefacts[0]).toMatchObject({ kind: 'export-onnx', meta: { exit: null } });
    expect(detail.notes).toBe('first try');
  });

  it('never duplicates a replayed epoch, and a restart drops the epochs it will replay', () => {
    const s = fresh();
    s.createRun({ id: 'r', config: config(), codeVersion: 'v' });
    s.recordEpoch('r', epochMetrics(1));
    s.recordEpoch('r', epochMetrics(2, 3, 0.5));
    s.recordEpoch('r', epochMetrics(2));
    expect(s.getRun('r').epochs).toEqual([epochMetrics(1), epochMetrics(2)]);
    expect(s.db.prepare('SELECT COUNT(*) AS n FROM exit_metrics').get()).toEqual({ n: 6 });
    // The checkpoint held epoch 1: the engine restarts at 2, so the recorded epoch 2 goes.
    s.recordStarted('r', { backendUsed: 'cpu', modelSummary: modelSummary(), startEpoch: 2, ownerPid: process.pid });
    expect(s.getRun('r').epochs.map((e) => e.epoch)).toEqual([1]);
    expect(s.getRun('r').summary.epochsDone).toBe(1);
  });

  it('filters runs by data set, method, status and tag', () => {
    const s = fresh();
    s.createRun({ id: 'a', config: config({ method: 'fgsm-me' }), codeVersion: 'v', createdAt: '2026-01-01T00:00:00Z' });
    s.createRun({ id: 'b', config: config({ method: 'standard', dataset: 'cifar10' }), codeVersion: 'v', createdAt: '2026-01-02T00:00:00Z' });
    s.createRun({ id: 'c', config: config({ method: 'fgsm' }), codeVersion: 'v', createdAt: '2026-01-03T00:00:00Z' });
    s.finishRun('c', { status: 'failed', failure: { kind: 'nan-loss', message: 'loss became NaN' } });
    s.tag('a', ['keep']);
    s.tag('b', ['keep', 'x'], []);
    s.tag('b', [], ['x']);
    const ids = (f: Parameters<RunStore['listRuns']>[0]) => s.listRuns(f).map((r) => r.id);
    expect(ids({})).toEqual(['c', 'b', 'a']);
    expect(ids({ dataset: 'cifar10' })).toEqual(['b']);
    expect(ids({ method: 'fgsm-me' })).toEqual(['a']);
    expect(ids({ status: 'failed' })).toEqual(['c']);
    expect(ids({ tag: 'keep' })).toEqual(['b', 'a']);
    expect(ids({ tag: 'x' })).toEqual([]);
    expect(ids({ limit: 1 })).toEqual(['c']);
    expect(s.listRuns({ status: 'failed' })[0].failure).toEqual({ kind: 'nan-loss', message: 'loss became NaN' });
    for (const r of s.listRuns()) RunSummarySchema.parse(r);
  });

  it('marks active runs whose owner is gone as interrupted, and leaves live ones alone', () => {
    const s = fresh();
    s.createRun({ id: 'dead', config: config(), codeVersion: 'v', ownerPid: 999_999 });
    s.createRun({ id: 'live', config: config(), codeVersion: 'v', ownerPid: 1234 });
    s.createRun({ id: 'stale', config: config(), codeVersion: 'v', ownerPid: 1234 });
    s.createRun({ id: 'done', config: config(), codeVersion: 'v', ownerPid: 999_999 });
    s.finishRun('done', { status: 'completed' });
    s.db.prepare("UPDATE runs SET heartbeat_at = '2020-01-01T00:00:00Z' WHERE id = 'stale'").run();
    const marked = s.markInterrupted((pid) => pid === 1234, 60_000);
    expect(marked.sort()).toEqual(['dead', 'stale']);
    expect(s.getRun('dead').summary).toMatchObject({ status: 'interrupted', failure: { kind: 'engine-died' } });
    expect(s.getRun('live').summary.status).toBe('queued');
    expect(s.getRun('done').summary.status).toBe('completed');
  });

  it('rejects bad input with a clear error and changes nothing', () => {
    const s = fresh();
    s.createRun({ id: 'r', config: config(), codeVersion: 'v' });
    const before = JSON.stringify(s.getRun('r'));
    expect(() => s.getRun('nope')).toThrow(UnknownRunError);
    expect(() => s.getRun('nope')).toThrow("unknown run 'nope'");
    expect(() => s.recordEpoch('nope', epochMetrics(1))).toThrow(UnknownRunError);
    expect(() => s.createRun({ id: 'r', config: config(), codeVersion: 'v' })).toThrow(StoreError);
    expect(() => s.createRun({ id: '../evil', config: config(), codeVersion: 'v' })).toThrow(/run id/);
    expect(() => s.tag('r', ['has space'])).toThrow(/tag/);
    // A malformed epoch (an exit row without its metrics) is rejected before anything is written.
    const bad = epochMetrics(1) as unknown as { exits: Array<Record<string, unknown>> };
    delete bad.exits[1].valPgdAcc;
    expect(() => s.recordEpoch('r', bad as never)).toThrow();
    expect(JSON.stringify(s.getRun('r'))).toBe(before);
    expect(s.listRuns().map((r) => r.id)).toEqual(['r']);
  });

  it('deletes a run with all its rows', () => {
    const s = fresh();
    s.createRun({ id: 'r', config: config(), codeVersion: 'v' });
    s.recordEpoch('r', epochMetrics(1));
    s.addEvaluation('r', { attack: 'fgsm', eps: 8, steps: 1, samples: 10, perExitAcc: [0.1, 0.2, 0.3] });
    s.tag('r', ['t']);
    s.setNote('r', 'n');
    s.recordCheckpoint('r', { kind: 'last', epoch: 1, path: 'last.ckpt' });
    s.deleteRun('r');
    for (const table of ['runs', 'epoch_metrics', 'exit_metrics', 'evaluations', 'evaluation_exits', 'tags', 'notes', 'checkpoints']) {
      expect(s.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    }
    expect(() => s.deleteRun('r')).toThrow(UnknownRunError);
  });

  it('keeps the database file in the data folder', () => {
    const home = tempHome();
    store = openStore(home);
    expect(store.db.name).toBe(path.join(home, 'exitlab.db'));
  });
});
