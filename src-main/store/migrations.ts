// The schema's history. Each entry takes a database at version i to version i+1; PRAGMA user_version
// holds the version. Entries are never edited once released: a change is a new entry at the end,
// and test/unit/store/migrations.test.ts migrates a database from every earlier version.
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const STATUSES = "'queued','running','paused','completed','stopped','failed','interrupted'";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'data sets, runs and per-epoch metrics per exit',
    sql: `
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        manifest TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL,
        method TEXT NOT NULL,
        model TEXT NOT NULL,
        backend TEXT NOT NULL,
        backend_used TEXT,
        config TEXT NOT NULL,
        model_summary TEXT,
        code_version TEXT NOT NULL,
        seed INTEGER NOT NULL,
        epochs INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN (${STATUSES})),
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        seconds REAL NOT NULL DEFAULT 0,
        epochs_done INTEGER NOT NULL DEFAULT 0,
        failure_kind TEXT,
        failure_message TEXT
      );
      CREATE TABLE epoch_metrics (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        lr REAL NOT NULL,
        seconds REAL NOT NULL,
        images_per_second REAL NOT NULL,
        probe TEXT,
        overfit_detected INTEGER NOT NULL,
        overfit_exits TEXT NOT NULL,
        overfit_reason TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (run_id, epoch)
      );
      CREATE TABLE exit_metrics (
        run_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        exit INTEGER NOT NULL,
        train_clean_acc REAL NOT NULL,
        train_clean_loss REAL NOT NULL,
        train_adv_acc REAL NOT NULL,
        train_adv_loss REAL NOT NULL,
        fc_weight_norm REAL NOT NULL,
        lambda REAL NOT NULL,
        val_clean_acc REAL NOT NULL,
        val_fgsm_acc REAL NOT NULL,
        val_pgd_acc REAL NOT NULL,
        PRIMARY KEY (run_id, epoch, exit),
        FOREIGN KEY (run_id, epoch) REFERENCES epoch_metrics(run_id, epoch) ON DELETE CASCADE
      );
    `,
  },
  {
    version: 2,
    description: 'evaluations: accuracy per exit and early-exit accuracy under an attack',
    sql: `
      CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        attack TEXT NOT NULL,
        eps REAL NOT NULL,
        steps INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        checkpoint TEXT NOT NULL,
        early_exit TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE evaluation_exits (
        evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
        exit INTEGER NOT NULL,
        accuracy REAL NOT NULL,
        PRIMARY KEY (evaluation_id, exit)
      );
      CREATE INDEX evaluations_run ON evaluations(run_id);
    `,
  },
  {
    version: 3,
    description: 'checkpoints and artefacts',
    sql: `
      CREATE TABLE checkpoints (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('last','best')),
        epoch INTEGER NOT NULL,
        path TEXT NOT NULL,
        written_at TEXT NOT NULL,
        PRIMARY KEY (run_id, kind)
      );
      CREATE TABLE artefacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        meta TEXT NOT NULL
      );
      CREATE INDEX artefacts_run ON artefacts(run_id);
    `,
  },
  {
    version: 4,
    description: 'tags, notes, and the owner of a running run (to tell a live run from an interrupted one)',
    sql: `
      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      );
      CREATE INDEX tags_tag ON tags(tag);
      CREATE TABLE notes (
        run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
      CREATE INDEX runs_dataset ON runs(dataset_id);
      CREATE INDEX runs_status ON runs(status);
    `,
  },
  {
    version: 5,
    description: 'a name per run, as users label runs in the app',
    sql: `
      ALTER TABLE runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 6,
    description: 'what each evaluation aimed at: its target and, per exit, whether the attack aimed there',
    sql: `
      ALTER TABLE evaluations ADD COLUMN target TEXT;
      ALTER TABLE evaluations ADD COLUMN aimed_at TEXT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
