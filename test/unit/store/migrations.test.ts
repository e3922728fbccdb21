// Every earlier schema version migrates forward with its data intact. Each version's fixture writes
// rows the way that release did (raw SQL against that version's tables), then today's store opens
// the file and must read them back.
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDatabase, schemaVersion, StoreError, type Db } from '../../../src-main/store/database';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src-main/store/migrations';
import { openStore } from '../../../src-main/store/run-store';
import { config, epochMetrics, manifest, tempHome } from './fixtures';

const FIXTURES: Record<number, (db: Db) => void> = {
  1: (db) => {
    db.prepare('INSERT INTO datasets VALUES (?, ?, ?, ?, ?)').run('synthetic', 'Synthetic', 'synthetic', JSON.stringify(manifest()), '2026-01-01T00:00:00Z');
    db.prepare(`INSERT INTO runs
      (id, dataset_id, method, model, backend, backend_used, config, code_version, seed, epochs, status, created_at, seconds, epochs_done)
      VALUES ('old', 'synthetic', 'fgsm-me', 'msdnet', 'cpu', 'cpu', ?, '0.0.1', 1, 3, 'completed', '2026-01-01T00:00:00Z', 21, 1)`)
      .run(JSON.stringify(config()));
    const m = epochMetrics(1);
    db.prepare(`INSERT INTO epoch_metrics VALUES ('old', 1, ?, ?, ?, ?, 0, '[]', '', '2026-01-01T00:00:00Z')`).run(
      m.lr, m.seconds, m.imagesPerSecond, JSON.stringify(m.probe),
    );
    for (const e of m.exits) {
      db.prepare(`INSERT INTO exit_metrics VALUES ('old', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(e.exit, e.trainCleanAcc, e.trainCleanLoss, e.trainAdvAcc, e.trainAdvLoss, e.fcWeightNorm, e.lambda, e.valCleanAcc, e.valFgsmAcc, e.valPgdAcc);
    }
  },
  2: (db) => {
    const id = db.prepare(`INSERT INTO evaluations (run_id, attack, eps, steps, samples, checkpoint, early_exit, created_at) ` +
      `VALUES ('old', 'pgd', 8, 20, 50, 'last', NULL, '2026-01-02T00:00:00Z')`).run().lastInsertRowid;
    [0.1, 0.2, 0.3].forEach((acc, exit) => db.prepare('INSERT INTO evaluation_exits VALUES (?, ?, ?)').run(id, exit, acc));
  },
  3: (db) => {
    db.prepare(`INSERT INTO checkpoints VALUES ('old', 'last', 1, 'last.ckpt', '2026-01-01T00:00:00Z')`).run();
    db.prepare(`INSERT INTO artefacts (run_id, kind, path, created_at, meta) VALUES ('old', 'export-tfjs', '/tmp/m', '2026-01-03T00:00:00Z', '{}')`).run();
  },
  4: (db) => {
    db.prepare(`INSERT INTO tags VALUES ('old', 'v4')`).run();
    db.prepare(`INSERT INTO notes VALUES ('old', 'written by v4', '2026-01-04T00:00:00Z')`).run();
  },
  5: (db) => {
    db.prepare(`UPDATE runs SET name = 'named in v5' WHERE id = 'old'`).run();
  },
};

function databaseAt(version: number): string {
  const file = path.join(tempHome('exitlab-migrate-'), 'exitlab.db');
  const db = openDatabase(file, { targetVersion: version });
  expect(schemaVersion(db)).toBe(version);
  for (let v = 1; v <= version; v++) FIXTURES[v](db);
  db.close();
  return file;
}

const schemaOf = (db: Db) => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();

describe('schema migrations', () => {
  it('has consecutive versions, one fixture per version before the newest', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    for (let v = 1; v < SCHEMA_VERSION; v++) expect(FIXTURES[v], `fixture for version ${v}`).toBeTypeOf('function');
  });

  const fresh = openDatabase(path.join(tempHome('exitlab-migrate-'), 'exitlab.db'));
  const freshSchema = schemaOf(fresh);
  fresh.close();

  for (let version = 0; version < SCHEMA_VERSION; version++) {
    it(`migrates a database from version ${version} with its data intact`, () => {
      const file = databaseAt(version);
      const store = openStore(path.dirname(file));
      try {
        expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
        expect(schemaOf(store.db)).toEqual(freshSchema);
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(store.db.pragma('foreign_key_check')).toEqual([]);
        if (version === 0) {
          expect(store.listRuns()).toEqual([]);
          return;
        }
        const run = store.getRun('old');
        expect(run.summary).toMatchObject({
          status: 'completed', seconds: 21, epochsDone: 1, name: version >= 5 ? 'named in v5' : '', tags: version >= 4 ? ['v4'] : [],
        });
        expect(run.notes).toBe(version >= 4 ? 'written by v4' : '');
        expect(run.epochs).toEqual([{ ...epochMetrics(1), catastrophicOverfitting: { detected: false, exits: [], reason: '' } }]);
        expect(run.dataset?.id).toBe('synthetic');
        expect(run.evaluations.map((e) => e.perExitAcc)).toEqual(version >= 2 ? [[0.1, 0.2, 0.3]] : []);
        // Older evaluations did not record their target: every exit is shown, as before.
        expect(run.evaluations.map((e) => [e.target, e.aimedAt])).toEqual(version >= 2 ? [[null, null]] : []);
        expect(run.checkpoints.length).toBe(version >= 3 ? 1 : 0);
        // The migrated database takes writes of the newest version.
        store.tag('old', ['migrated'], ['v4']);
        store.rename('old', 'from v' + version);
        expect(store.getRun('old').summary).toMatchObject({ tags: ['migrated'], name: 'from v' + version });
      } finally {
        store.close();
      }
    });
  }

  it('refuses a database written by a newer ExitLab, leaving it untouched', () => {
    const file = path.join(tempHome('exitlab-migrate-'), 'exitlab.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(StoreError);
    expect(() => openDatabase(file)).toThrow(/newer than this ExitLab knows/);
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    again.close();
  });

  it('rolls a failing migration back whole', () => {
    const db = new Database(':memory:');
    const broken = [...MIGRATIONS.slice(0, 1), { version: 2, description: 'broken', sql: 'CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);' }];
    expect(() => migrate(db, 2, broken)).toThrow();
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    db.close();
  });
});
