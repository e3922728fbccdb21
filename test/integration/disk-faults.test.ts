// Every write path on a full disk (a small tmpfs) and on a folder it may not write (the CLI run as
// user nobody): each fails with one clear line naming what it could not write, leaves nothing
// half-written or temporary behind, and keeps the previous checkpoint loadable. Needs root (mount,
// setuid); elsewhere the suite skips and says why. CI runs as root, so there it never skips.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src-main/engine/train/checkpoint';
import { openStore } from '../../src-main/store/run-store';
import { cifarRecords } from '../unit/datasets/fixtures';
import { tempHome } from '../unit/store/fixtures';
import { exitlab, expectIntegrity, temporaries, TINY_TRAIN, trainTinyRun } from '../helpers/cli-process';

const NOBODY = 65534;

function whyNot(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a tmpfs mount and running as another user)';
  const probe = fs.mkdtempSync('/tmp/exitlab-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    execFileSync('umount', [probe]);
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}
const skipReason = whyNot();
if (skipReason) console.warn(`disk-fault tests skipped: ${skipReason}`);

let root: string;
let template: string;
let runId: string;
let disk: string;

/** Fills the tmpfs until at most `leave` bytes are free. */
function fill(leave = 0): void {
  const chunk = Buffer.alloc(64 * 1024, 1);
  const fd = fs.openSync(path.join(disk, `filler-${Date.now()}-${Math.random()}`), 'w');
  try {
    for (;;) {
      const free = fs.statfsSync(disk).bavail * fs.statfsSync(disk).bsize;
      if (free <= leave) break;
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, free - leave));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

function unfill(): void {
  for (const f of fs.readdirSync(disk)) if (f.startsWith('filler-')) fs.rmSync(path.join(disk, f));
}

/** Each case starts from an empty disk. */
function emptyDisk(): void {
  for (const f of fs.readdirSync(disk)) fs.rmSync(path.join(disk, f), { recursive: true, force: true });
}

/** A copy of the template data folder on the small disk. */
function homeOnDisk(name: string): string {
  const home = path.join(disk, name);
  fs.cpSync(template, home, { recursive: true });
  return home;
}

function expectClean(home: string, out: { code: number | null; err: string }, pattern: RegExp): void {
  expect(out.code, out.err).not.toBe(0);
  const lines = out.err.trim().split('\n').filter((l) => /error/i.test(l));
  expect(lines.length, out.err).toBeGreaterThan(0);
  expect(lines[0]).toMatch(pattern);
  expectIntegrity(home);
  expect(temporaries(home)).toEqual([]);
}

describe.skipIf(skipReason !== null)('full disk and unwritable folders', () => {
  beforeAll(async () => {
    root = tempHome('exitlab-disk-');
    template = path.join(root, 'template');
    runId = await trainTinyRun(template);
    fs.writeFileSync(path.join(root, 'big.bin'), cifarRecords(Array.from({ length: 600 }, (_, i) => ({ image: i, labels: [i % 10] }))));
    fs.mkdirSync(path.join(root, 'bundles'));
    const bundle = await exitlab(template, ['runs', 'export-bundle', runId, '--out', path.join(root, 'bundles', 'run.exitlab')]);
    expect(bundle.code, bundle.err).toBe(0);
    disk = path.join(root, 'disk');
    fs.mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', disk]);
  }, 300_000);

  afterAll(() => {
    if (disk) execFileSync('umount', ['-l', disk]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('ENOSPC', () => {
    beforeEach(emptyDisk);

    it('data set import', { timeout: 120_000 }, async () => {
      const home = homeOnDisk('import');
      fill(256 * 1024);
      const out = await exitlab(home, ['datasets', 'import', path.join(root, 'big.bin'), '--name', 'big']);
      unfill();
      expectClean(home, out, /cannot write data set 'big' into .*datasets: no space left on the device \(ENOSPC\)/);
      expect(fs.existsSync(path.join(home, 'datasets', 'big'))).toBe(false);
    });

    it('training: the checkpoint write fails, the run fails saying so, the epoch before stays loadable', { timeout: 180_000 }, async () => {
      const home = homeOnDisk('train');
      let filled = false;
      const out = await exitlab(home, ['train', ...TINY_TRAIN, '--epochs', '3', '--json'], {
        onLine: (line) => {
          if (!filled && line.includes('"type":"checkpoint"')) {
            filled = true;
            fill();
          }
        },
      });
      unfill();
      expect(filled).toBe(true);
      expect(out.code, out.err).not.toBe(0);
      // Whichever write meets the full disk first: the checkpoint, or the database recording the epoch.
      expect(out.out + out.err).toMatch(/cannot write (checkpoint .*last\.ckpt|the run database .*exitlab\.db): no space left on the device/);
      // With the disk full the failure itself may not be recordable; the next start marks the run
      // interrupted (its owner is gone), and it resumes from the checkpoint of epoch 1.
      const again = await exitlab(home, ['runs', 'list']);
      expect(again.code, again.err).toBe(0);
      expectIntegrity(home);
      expect(temporaries(home)).toEqual([]);
      const store = openStore(home);
      const run = store.listRuns({}).find((r) => r.id !== runId)!;
      store.close();
      expect(['failed', 'interrupted']).toContain(run.status);
      expect(readCheckpoint(path.join(home, 'runs', run.id, 'last.ckpt')).epoch).toBe(1);
    });

    it('evaluation recording', { timeout: 120_000 }, async () => {
      const home = homeOnDisk('eval');
      const before = openStore(home);
      const evaluations = before.getRun(runId).evaluations.length;
      before.close();
      fill();
      const out = await exitlab(home, ['eval', '--run', runId, '--attacks', 'clean', '--samples', '8', '--budgets', 'none', '--backend', 'wasm']);
      unfill();
      expectClean(home, out, /cannot write .*(evaluation report|run database).*no space left on the device/);
      const after = openStore(home);
      expect(after.getRun(runId).evaluations.length).toBe(evaluations);
      after.close();
    });

    it('model export and bundle export onto a full disk', { timeout: 120_000 }, async () => {
      // The data folder stays on a disk with room: only the destination is full.
      const home = path.join(root, 'export');
      fs.cpSync(template, home, { recursive: true });
      fill();
      const exported = await exitlab(home, ['export', '--run', runId, '--format', 'onnx', '--out', path.join(disk, 'model')]);
      const bundled = await exitlab(home, ['runs', 'export-bundle', runId, '--out', path.join(disk, 'run.exitlab')]);
      unfill();
      expectClean(home, exported, /cannot write the export into .*model: no space left on the device \(ENOSPC\)/);
      expectClean(home, bundled, /cannot write .*run\.exitlab: no space left on the device \(ENOSPC\)/);
      expect(fs.existsSync(path.join(disk, 'model'))).toBe(false);
      expect(fs.existsSync(path.join(disk, 'run.exitlab'))).toBe(false);
      expect(temporaries(disk)).toEqual([]);
      expect(readCheckpoint(path.join(home, 'runs', runId, 'last.ckpt')).epoch).toBe(2);
    });

    it('bundle import', { timeout: 120_000 }, async () => {
      const home = path.join(disk, 'bimport');
      fs.mkdirSync(home);
      const init = await exitlab(home, ['runs', 'list']);
      expect(init.code, init.err).toBe(0);
      fill();
      const out = await exitlab(home, ['runs', 'import-bundle', path.join(root, 'bundles', 'run.exitlab')]);
      unfill();
      expectClean(home, out, /cannot write .*no space left on the device/);
      const store = openStore(home);
      expect(store.hasRun(runId)).toBe(false);
      store.close();
      expect(fs.existsSync(path.join(home, 'runs', runId))).toBe(false);
    });
  });

  describe('EACCES', () => {
    /** A data folder nobody may write except where `lock` says, run as nobody. */
    function homeFor(name: string, lock: string[]): string {
      const home = path.join(root, name);
      fs.cpSync(template, home, { recursive: true });
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, home]);
      for (const rel of lock) {
        fs.mkdirSync(path.join(home, rel), { recursive: true });
        execFileSync('chown', ['root:root', path.join(home, rel)]);
        fs.chmodSync(path.join(home, rel), 0o755);
      }
      return home;
    }
    const asNobody = { uid: NOBODY, gid: NOBODY };

    it('data set import, export and bundle export into folders it may not write', { timeout: 180_000 }, async () => {
      const home = homeFor('eacces', ['datasets', 'tmp']);
      const locked = path.join(root, 'locked');
      fs.mkdirSync(locked, { recursive: true });
      fs.chmodSync(locked, 0o755);
      fs.chmodSync(root, 0o755);
      fs.chmodSync(path.join(root, 'big.bin'), 0o644);
      const imported = await exitlab(home, ['datasets', 'import', path.join(root, 'big.bin'), '--name', 'big'], asNobody);
      expectClean(home, imported, /cannot write data set 'big' into .*: permission denied \(EACCES\)/);
      const exported = await exitlab(home, ['export', '--run', runId, '--format', 'onnx', '--out', path.join(locked, 'model')], asNobody);
      expectClean(home, exported, /cannot export to .*locked\/model: folder .*locked is not writable/);
      const bundled = await exitlab(home, ['runs', 'export-bundle', runId, '--out', path.join(locked, 'run.exitlab')], asNobody);
      expectClean(home, bundled, /cannot write .*locked\/run\.exitlab: folder .*locked is not writable/);
      expect(fs.readdirSync(locked)).toEqual([]);
    });

    it('training into a run folder it may not write fails naming the folder', { timeout: 180_000 }, async () => {
      const home = homeFor('eacces-train', ['runs']);
      const out = await exitlab(home, ['train', ...TINY_TRAIN], asNobody);
      expect(out.code, out.err).not.toBe(0);
      expect(out.out + out.err).toMatch(/permission denied.*runs\/|runs\/.*permission denied/i);
      expectIntegrity(home);
      expect(readCheckpoint(path.join(home, 'runs', runId, 'last.ckpt')).epoch).toBe(2);
    });
  });
});
