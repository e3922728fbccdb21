// Every write path SIGKILLed at seeded random moments: a data set import, training (the engine
// process too, mid-epoch or mid-checkpoint), evaluation recording, model export, bundle export and
// import, and the store migration. After each kill, and a second start: the database passes
// integrity_check, nothing half-written is visible, the run is resumable or cleanly marked, and no
// temporary file is left. The delays are drawn from [0, the path's uninterrupted duration].
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src-main/engine/train/checkpoint';
import { openDataset } from '../../src-main/datasets/catalog';
import { readBundle } from '../../src-main/runs/bundle';
import { mixSeed, Rng } from '../../src-main/random';
import { openDatabase } from '../../src-main/store/database';
import { SCHEMA_VERSION } from '../../src-main/store/migrations';
import { openStore } from '../../src-main/store/run-store';
import { cifarRecords } from '../unit/datasets/fixtures';
import { config, tempHome } from '../unit/store/fixtures';
import { exitlab, expectIntegrity, temporaries, TINY_TRAIN, trainTinyRun } from '../helpers/cli-process';

const KILLS = Number(process.env.EXITLAB_KILLS ?? 20);
const SEED = Number(process.env.EXITLAB_KILL_SEED ?? 7);

let root: string;
/** A data folder with the synthetic set drawn and one trained run, copied for every case. */
let template: string;
let runId: string;

/** Outside the data folder, as a user's export folder is (the second start cleans only the data folder). */
function exportTarget(i: number): string {
  const parent = path.join(root, `exports-${i}`);
  fs.mkdirSync(parent, { recursive: true });
  return path.join(parent, 'model');
}

function copyHome(name: string): string {
  const home = path.join(root, name);
  fs.cpSync(template, home, { recursive: true });
  return home;
}

/** The second start: a store-opening command that must succeed and clean up after the dead writer. */
async function secondStart(home: string): Promise<void> {
  const again = await exitlab(home, ['runs', 'list', '--json']);
  expect(again.code, again.err).toBe(0);
  expectIntegrity(home);
  expect(temporaries(home)).toEqual([]);
}

interface WritePath {
  name: string;
  /** A fresh data folder (and files) for case i; returns the argv to kill. */
  prepare(i: number): { home: string; argv: string[] };
  /** What must hold after the kill and the second start. */
  check(home: string, i: number): Promise<void> | void;
}

const PATHS: WritePath[] = [
  {
    name: 'data set import',
    prepare: (i) => {
      const home = copyHome(`import-${i}`);
      return { home, argv: ['datasets', 'import', path.join(root, 'big.bin'), '--name', 'big'] };
    },
    check: (home) => {
      const dir = path.join(home, 'datasets', 'big');
      // Either whole (every split readable, checksums verified) or not there at all.
      if (fs.existsSync(dir)) expect(openDataset(home, 'big').train.count).toBeGreaterThan(0);
      for (const name of fs.readdirSync(path.join(home, 'datasets'))) {
        expect(fs.existsSync(path.join(home, 'datasets', name, 'manifest.json')), name).toBe(true);
      }
    },
  },
  {
    name: 'training',
    prepare: (i) => ({ home: copyHome(`train-${i}`), argv: ['train', ...TINY_TRAIN] }),
    check: (home) => {
      const store = openStore(home);
      try {
        const run = store.listRuns({}).find((r) => r.id !== runId);
        if (!run) return;
        expect(['interrupted', 'completed', 'queued']).toContain(run.status);
        const dir = path.join(home, 'runs', run.id);
        for (const f of ['last.ckpt', 'best.ckpt']) {
          if (fs.existsSync(path.join(dir, f))) expect(readCheckpoint(path.join(dir, f)).epoch).toBeGreaterThanOrEqual(1);
        }
      } finally {
        store.close();
      }
    },
  },
  {
    name: 'evaluation recording',
    prepare: (i) => ({
      home: copyHome(`eval-${i}`), argv: ['eval', '--run', runId, '--attacks', 'clean,fgsm', '--samples', '16', '--budgets', 'none', '--backend', 'wasm'],
    }),
    check: (home) => {
      const store = openStore(home);
      try {
        for (const e of store.getRun(runId).evaluations) expect(e.perExitAcc.length).toBeGreaterThan(0);
      } finally {
        store.close();
      }
      const reports = path.join(home, 'runs', runId, 'evaluations');
      if (fs.existsSync(reports)) {
        for (const f of fs.readdirSync(reports)) expect(() => JSON.parse(fs.readFileSync(path.join(reports, f), 'utf8')), f).not.toThrow();
      }
    },
  },
  {
    name: 'model export',
    prepare: (i) => ({ home: copyHome(`export-${i}`), argv: ['export', '--run', runId, '--format', 'onnx', '--out', exportTarget(i)] }),
    check: async (home, i) => {
      const out = exportTarget(i);
      if (fs.existsSync(out)) {
        const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
        expect(fs.existsSync(path.join(out, 'model.onnx'))).toBe(true);
        expect(meta).toBeTypeOf('object');
      } else {
        // Exporting again to the same folder finds a dead exporter's temporary and removes it.
        const again = await exitlab(home, ['export', '--run', runId, '--format', 'onnx', '--out', out]);
        expect(again.code, again.err).toBe(0);
      }
      expect(temporaries(path.dirname(out)), `leftovers beside ${out}`).toEqual([]);
    },
  },
  {
    name: 'bundle export',
    prepare: (i) => ({ home: copyHome(`bexport-${i}`), argv: ['runs', 'export-bundle', runId, '--out', path.join(root, `bundle-${i}.exitlab`)] }),
    check: async (home, i) => {
      const file = path.join(root, `bundle-${i}.exitlab`);
      if (!fs.existsSync(file)) {
        const again = await exitlab(home, ['runs', 'export-bundle', runId, '--out', file]);
        expect(again.code, again.err).toBe(0);
      }
      expect(() => readBundle(file)).not.toThrow();
      expect(fs.readdirSync(root).filter((n) => n.startsWith(`bundle-${i}.exitlab.tmp`))).toEqual([]);
    },
  },
  {
    name: 'bundle import',
    prepare: (i) => {
      const home = path.join(root, `bimport-${i}`);
      fs.mkdirSync(home);
      return { home, argv: ['runs', 'import-bundle', path.join(root, 'reference.exitlab')] };
    },
    check: (home) => {
      const store = openStore(home);
      try {
        const dir = path.join(home, 'runs', runId);
        // The run is in the store with its folder, or neither is there.
        if (store.hasRun(runId)) expect(readCheckpoint(path.join(dir, 'last.ckpt')).epoch).toBe(2);
        else expect(fs.existsSync(dir)).toBe(false);
      } finally {
        store.close();
      }
    },
  },
  {
    name: 'store migration',
    prepare: (i) => {
      const home = path.join(root, `migrate-${i}`);
      fs.mkdirSync(home);
      const db = openDatabase(path.join(home, 'exitlab.db'), { targetVersion: 1 });
      db.prepare(`INSERT INTO runs
        (id, dataset_id, method, model, backend, backend_used, config, code_version, seed, epochs, status, created_at, seconds, epochs_done)
        VALUES ('old', 'synthetic', 'fgsm-me', 'msdnet', 'cpu', 'cpu', ?, '0.0.1', 1, 3, 'completed', '2026-01-01T00:00:00Z', 21, 1)`)
        .run(JSON.stringify(config()));
      db.close();
      return { home, argv: ['runs', 'list', '--json'] };
    },
    check: (home) => {
      const store = openStore(home);
      try {
        expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        expect(store.getRun('old').summary.status).toBe('completed');
      } finally {
        store.close();
      }
    },
  },
];

beforeAll(async () => {
  root = tempHome('exitlab-kill-');
  template = path.join(root, 'template');
  // 2,000 records (6 MB): an import long enough to be killed in the middle.
  const items = Array.from({ length: 2000 }, (_, i) => ({ image: i, labels: [i % 10] }));
  fs.writeFileSync(path.join(root, 'big.bin'), cifarRecords(items));
  runId = await trainTinyRun(template);
  const bundle = await exitlab(template, ['runs', 'export-bundle', runId, '--out', path.join(root, 'reference.exitlab')]);
  expect(bundle.code, bundle.err).toBe(0);
}, 300_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('SIGKILL on every write path', () => {
  for (const [p, writePath] of PATHS.entries()) {
    it(`${writePath.name}: ${KILLS} kills at seeded moments leave nothing half-written (seed ${SEED})`, { timeout: 600_000 }, async () => {
      // The uninterrupted run gives the window the kills are drawn from, and must itself succeed.
      const clean = writePath.prepare(KILLS);
      const full = await exitlab(clean.home, clean.argv);
      expect(full.code, full.err).toBe(0);
      const random = new Rng(mixSeed(SEED, p));
      const killedAt: number[] = [];
      for (let i = 0; i < KILLS; i++) {
        const { home, argv } = writePath.prepare(i);
        const delay = Math.round(random.next() * full.ms);
        const outcome = await exitlab(home, argv, { killAfterMs: delay });
        killedAt.push(delay);
        const label = `${writePath.name}, case ${i}, killed after ${delay} ms (of ${Math.round(full.ms)}; seed ${SEED}) → ${outcome.signal ?? outcome.code}`;
        try {
          expectIntegrity(home);
          await secondStart(home);
          await writePath.check(home, i);
        } catch (err) {
          throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
        }
      }
      expect(killedAt.length).toBe(KILLS);
    });
  }

  it('a training run killed mid-way resumes to completion', { timeout: 300_000 }, async () => {
    const home = copyHome('resume');
    const killed = await exitlab(home, ['train', ...TINY_TRAIN, '--epochs', '3'], { killAfterMs: 6_000 });
    expect(killed.signal).toBe('SIGKILL');
    await secondStart(home);
    const store = openStore(home);
    const run = store.listRuns({}).find((r) => r.id !== runId)!;
    store.close();
    expect(run.status).toBe('interrupted');
    const resumed = await exitlab(home, ['runs', 'resume', run.id]);
    expect(resumed.code, resumed.err).toBe(0);
    const after = openStore(home);
    expect(after.getRun(run.id).summary.status).toBe('completed');
    after.close();
  });

  it('a run whose latest checkpoint is corrupted resumes from the one before, and says so', { timeout: 300_000 }, async () => {
    const home = copyHome('fallback');
    let checkpoints = 0;
    let pid = 0;
    // The engine is killed as soon as the second epoch's checkpoint is written: last.ckpt is epoch 2, last.ckpt.prev epoch 1.
    const killed = await exitlab(home, ['train', ...TINY_TRAIN, '--epochs', '4', '--json'], {
      onLine: (line) => {
        if (line.includes('"type":"ready"')) pid = JSON.parse(line).pid;
        if (line.includes('"type":"checkpoint"') && line.includes('"best":false') && ++checkpoints === 2) process.kill(pid, 'SIGKILL');
      },
    });
    expect(checkpoints).toBe(2);
    expect(killed.out).toMatch(/engine-died/);
    await secondStart(home);
    const store = openStore(home);
    const run = store.listRuns({}).find((r) => r.id !== runId)!;
    store.close();
    const last = path.join(home, 'runs', run.id, 'last.ckpt');
    expect(readCheckpoint(last).epoch).toBe(2);
    const bytes = fs.readFileSync(last);
    bytes[bytes.length - 10] ^= 0xff;
    fs.writeFileSync(last, bytes);
    const resumed = await exitlab(home, ['runs', 'resume', run.id, '--json']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/resuming from last\.ckpt\.prev \(epoch 1\) instead of the latest checkpoint: .*last\.ckpt is truncated or corrupted/);
  });
});
