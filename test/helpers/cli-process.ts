// `exitlab …` in a process of its own (test/integration/cli.fixture.ts), for tests that kill it,
// run it as another user, or point it at a full disk; and the data folders those tests start from.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';

const FIXTURE = path.join(__dirname, '..', 'integration', 'cli.fixture.ts');

/** A one-epoch-scale training run that takes a few seconds on wasm. */
export const TINY_TRAIN = [
  '--dataset', 'synthetic', '--blocks', '1', '--channels', '4', '--classifier-channels', '8', '--batch-size', '16', '--train-samples', '64',
  '--eval-samples', '8', '--epochs', '2', '--backend', 'wasm', '--seed', '3',
];

export interface Outcome { code: number | null; signal: NodeJS.Signals | null; out: string; err: string; ms: number }

export interface SpawnOptions {
  /** SIGKILL the whole process group (the CLI and its engine) after this many ms. */
  killAfterMs?: number;
  /** Run as this user and group (root only). */
  uid?: number;
  gid?: number;
  /** Sees each line of stdout as it comes. */
  onLine?: (line: string) => void;
}

export function exitlab(home: string, argv: string[], options: SpawnOptions = {}): Promise<Outcome> {
  const t0 = performance.now();
  const child: ChildProcess = fork(FIXTURE, [...argv, '--home', home], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true, uid: options.uid, gid: options.gid,
  });
  let out = '';
  let err = '';
  let pending = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    pending += c.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach((l) => options.onLine?.(l));
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const timer = options.killAfterMs === undefined ? null : setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, options.killAfterMs);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out, err, ms: performance.now() - t0 });
    }),
  );
}

/** Trains the tiny run into `home` and returns its id. */
export async function trainTinyRun(home: string): Promise<string> {
  const trained = await exitlab(home, ['train', ...TINY_TRAIN, '--json']);
  expect(trained.code, trained.err).toBe(0);
  return JSON.parse(trained.out.trim().split('\n').pop()!).runId;
}

/** Every temporary file or folder under dir. */
export function temporaries(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => /\.tmp(-\d+)?(-[0-9a-f]+)?$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

export function expectIntegrity(home: string): void {
  const file = path.join(home, 'exitlab.db');
  if (!fs.existsSync(file)) return;
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  } finally {
    db.close();
  }
}
