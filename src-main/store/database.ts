// Opens the SQLite database and brings its schema to the current version. WAL mode lets the UI read
// while a run is being recorded; every write elsewhere goes through a transaction.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations';
import { writeFailureMessage } from '../write-errors';

export type Db = Database.Database;

export class StoreError extends Error {}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies the migrations after the database's version, up to `target`, each in its own transaction. */
export function migrate(db: Db, target: number = SCHEMA_VERSION, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const from = schemaVersion(db);
  const newest = migrations[migrations.length - 1]?.version ?? 0;
  if (from > newest) {
    throw new StoreError(`the database is at schema version ${from}, newer than this ExitLab knows (${newest}): update ExitLab to open it`);
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= from || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Stop at this schema version (tests build databases as earlier releases left them). */
  targetVersion?: number;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (!options.readonly) fs.mkdirSync(path.dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new StoreError(`cannot open the run database ${file}: ${(err as Error).message}`);
  }
  try {
    // Another process may be writing (a run being recorded while the CLI lists runs): wait, don't fail.
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL is durable across application crashes; only a power loss can drop the last commits.
      db.pragma('synchronous = NORMAL');
      migrate(db, options.targetVersion ?? SCHEMA_VERSION);
    } else if (schemaVersion(db) !== SCHEMA_VERSION) {
      throw new StoreError(`the run database ${file} is at schema version ${schemaVersion(db)}, expected ${SCHEMA_VERSION}`);
    }
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(writeFailureMessage(err, `cannot write the run database ${file}`, file, `cannot use the run database ${file}`));
  }
  return db;
}
