// The whole api contract under hostile input: every method gets malformed and edge-case payloads
// (wrong types, missing and extra keys, huge strings and arrays, NaN/Infinity, unicode, `../` ids)
// and valid-but-wrong ones (unknown ids, runs in the wrong state), through the real dispatcher.
// Every answer must be a typed error with one short line, or a valid response; no call may throw
// or log a programming error; and a refused call must leave the data folder and database as they were.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { API_METHODS, type ApiEnvelope, type ApiMethod } from '../../src-shared/api';
import type { EngineEvent } from '../../src-shared/engine-messages';
import { createApiService, type ApiService } from '../../src-main/api/service';
import type { EngineHandle, FinalEvent } from '../../src-main/engine/process/host';
import { openStore } from '../../src-main/store/run-store';
import { config, epochMetrics, modelSummary, tempHome } from '../unit/store/fixtures';

const SEED = Number(process.env.EXITLAB_FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.EXITLAB_FUZZ_RUNS ?? 1200);
const METHODS = Object.keys(API_METHODS) as ApiMethod[];
const ERROR_CODES = ['bad-request', 'unknown-method', 'not-found', 'unavailable', 'failed', 'internal'];

let home: string;
let service: ApiService;

/** An engine that fails at once: runs.start and runs.resume are exercised without training. */
function failingEngine(onEvent: (event: EngineEvent) => void): EngineHandle {
  const final: FinalEvent = { type: 'failed', kind: 'error', message: 'fuzz engine' };
  return {
    send: (command) => {
      if (command.type === 'start') onEvent(final);
    },
    done: Promise.resolve(final),
    pid: undefined,
    kill: () => undefined,
  };
}

beforeAll(() => {
  home = tempHome('exitlab-fuzz-');
  process.env.EXITLAB_DOWNLOAD_MIRROR = path.join(home, 'no-mirror');
  const store = openStore(home);
  store.createRun({ id: 'done1', config: config(), codeVersion: 'v', ownerPid: process.pid });
  store.recordStarted('done1', { backendUsed: 'cpu', modelSummary: modelSummary(3), startEpoch: 1, ownerPid: process.pid });
  for (let e = 1; e <= 3; e++) store.recordEpoch('done1', epochMetrics(e, 3));
  store.finishRun('done1', { status: 'completed', seconds: 3, epochsDone: 3 });
  store.createRun({ id: 'failed1', config: config(), codeVersion: 'v', ownerPid: process.pid });
  store.finishRun('failed1', { status: 'failed', failure: { kind: 'error', message: 'x' } });
  store.close();
  service = createApiService({ home, mode: 'browser', launchEngine: failingEngine });
});

afterAll(async () => {
  await service.shutdown(100);
  fs.rmSync(home, { recursive: true, force: true });
  delete process.env.EXITLAB_DOWNLOAD_MIRROR;
});

/** Every file of the data folder, and the database's rows (sqlite's shared-memory index changes on reads). */
function fingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('-shm')) hash.update(p).update(fs.readFileSync(p));
    }
  };
  walk(home);
  return hash.digest('hex');
}

/** A request each method accepts, to mutate from. Ids point at fixtures or at nothing. */
const VALID: Record<string, unknown> = {
  'app.info': {},
  'app.pickPath': { purpose: 'import-file' },
  'datasets.list': {},
  'datasets.import': { path: '/nonexistent/cifar-10-binary.tar.gz' },
  'datasets.download': { source: 'cifar10' },
  'datasets.remove': { id: 'nope' },
  'datasets.preview': { id: 'nope' },
  'model.describe': { model: { blocks: 2, channels: 4 } },
  'runs.start': { config: config() },
  'runs.control': { runId: 'done1', action: 'pause' },
  'runs.live': {},
  'runs.list': { filter: {} },
  'runs.get': { runId: 'done1' },
  'runs.update': { runId: 'done1', name: 'renamed' },
  'runs.delete': { runId: 'nope' },
  'runs.resume': { runId: 'done1' },
  'runs.compare': { runIds: ['done1', 'failed1'] },
  'eval.run': { runId: 'done1', attacks: ['clean'], samples: 4 },
  'export.model': { runId: 'done1', out: '/nonexistent/export', format: 'tfjs' },
  'studies.list': {},
  'studies.get': { name: 'nope' },
  'studies.report': { name: 'nope' },
  'studies.collect': { name: 'nope' },
};

const hostile = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -1, -0, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5, null, true, '', [], {}),
  fc.constantFrom('../../../etc/passwd', '..', '/', '\0', 'a\nb', '💥'.repeat(50), 'x'.repeat(1 << 20), '<script>', 'done1/../failed1'),
  fc.constant(Array.from({ length: 100_000 }, (_, i) => i)),
  fc.constant(Array.from({ length: 5_000 }, () => ({ a: 'x' }))),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.double(),
  fc.integer(),
  fc.anything({ maxDepth: 3 }),
);

/** Rewrites one key (at any depth) of a value, or drops it, or adds an unknown one. */
function mutate(value: unknown, choice: number, replacement: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > 3) return replacement;
  const obj = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(obj);
  const op = choice % 4;
  if (op === 0 || keys.length === 0) return { ...obj, [`extra${choice % 7}`]: replacement };
  const key = keys[Math.floor(choice / 4) % keys.length];
  if (op === 1) {
    delete obj[key];
    return obj;
  }
  if (op === 2) return { ...obj, [key]: replacement };
  return { ...obj, [key]: mutate(obj[key], Math.floor(choice / 16), replacement, depth + 1) };
}

const request = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...METHODS), fc.nat(), hostile).map(([m, choice, r]) => ({
    method: m as unknown, params: mutate(VALID[m], choice, r),
  })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...METHODS), hostile).map(([m, params]) => ({ method: m as unknown, params })) },
  { weight: 1, arbitrary: fc.tuple(hostile, hostile).map(([method, params]) => ({ method, params })) },
);

function checkEnvelope(envelope: ApiEnvelope, label: string): void {
  expect(envelope, label).toBeTypeOf('object');
  if (envelope.ok) return;
  expect(ERROR_CODES, label).toContain(envelope.error.code);
  const message = envelope.error.message;
  expect(typeof message, label).toBe('string');
  expect(message.length, `${label}: message of ${message.length} characters`).toBeLessThanOrEqual(600);
  expect(message, label).not.toMatch(/[\r\n]/);
  expect(message, label).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

describe('api contract fuzz', () => {
  it(`answers ${RUNS} hostile requests with typed one-line errors or valid responses, changing nothing when refusing (seed ${SEED})`,
    { timeout: 600_000 }, async () => {
    const programmingErrors: string[] = [];
    const consoleError = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      const err = args.find((a) => a instanceof Error) as Error | undefined;
      if (err && (err.name === 'TypeError' || err.name === 'RangeError' || err.name === 'ReferenceError')) {
        programmingErrors.push(`${err.name}: ${err.message}`);
      }
    });
    let before = fingerprint();
    const answered = { ok: 0, refused: 0 };
    const byCode: Record<string, number> = {};
    try {
      await fc.assert(
        fc.asyncProperty(request, async ({ method, params }) => {
          const label = `${String(method).slice(0, 60)} ${JSON.stringify(params)?.slice(0, 200)}`;
          const envelope = await service.call(method, params);
          checkEnvelope(envelope, label);
          expect(programmingErrors, label).toEqual([]);
          // Let a failing engine's last records land before the folder is compared again.
          await new Promise((resolve) => setTimeout(resolve, 2));
          const after = fingerprint();
          if (envelope.ok) {
            answered.ok++;
            before = after;
          } else {
            answered.refused++;
            byCode[envelope.error.code] = (byCode[envelope.error.code] ?? 0) + 1;
            expect(after, `${label} was refused (${envelope.error.message}) but changed the data folder`).toBe(before);
          }
        }),
        {
          seed: SEED,
          numRuns: RUNS,
          endOnFailure: true,
          // The default report prints the counterexample whole: megabytes for a huge string.
          reporter: (run) => {
            if (run.failed) {
              throw new Error(`fuzz case ${run.numRuns} failed (reproduce with EXITLAB_FUZZ_SEED=${SEED}): ` +
                `${String((run.errorInstance as Error)?.message ?? run.errorInstance).slice(0, 2000)}`);
            }
          },
        },
      );
    } finally {
      consoleError.mockRestore();
    }
    console.log(`api fuzz, seed ${SEED}: ${answered.ok} answered, ${answered.refused} refused ${JSON.stringify(byCode)}`);
    // A fuzzer whose cases all bounce off the first check tests nothing behind it.
    expect(answered.refused).toBeGreaterThan(RUNS / 2);
    expect(answered.ok).toBeGreaterThan(10);
    expect(byCode['not-found'] ?? 0).toBeGreaterThan(10);
  });

  it('refuses valid-but-wrong requests: unknown ids and runs in the wrong state', async () => {
    const cases: Array<[ApiMethod, unknown, RegExp]> = [
      ['runs.get', { runId: 'nope' }, /unknown run 'nope'/],
      ['runs.delete', { runId: 'nope' }, /unknown run/],
      ['runs.resume', { runId: 'done1' }, /completed|cannot be resumed/],
      ['runs.control', { runId: 'done1', action: 'stop' }, /not (running|live)|no live run/],
      ['runs.compare', { runIds: ['done1', 'nope'] }, /unknown run/],
      ['datasets.remove', { id: 'nope' }, /nope/],
      ['datasets.remove', { id: 'synthetic' }, /cannot be removed/],
      ['datasets.preview', { id: '../runs' }, /.+/],
      ['eval.run', { runId: 'failed1', attacks: ['clean'] }, /checkpoint|cannot/],
      ['export.model', { runId: 'done1', out: path.join(home, 'out'), format: 'onnx' }, /checkpoint/],
    ];
    for (const [method, params, message] of cases) {
      const before = fingerprint();
      const envelope = await service.call(method, params);
      const label = `${method} ${JSON.stringify(params)}`;
      checkEnvelope(envelope, label);
      expect(envelope.ok, label).toBe(false);
      if (!envelope.ok) expect(envelope.error.message, label).toMatch(message);
      expect(fingerprint(), label).toBe(before);
    }
  });
});
