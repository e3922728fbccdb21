// The Slurm side of `exitlab study` where no cluster is needed: bad input refused before anything
// is written (no sbatch on PATH, a shared directory that is missing or not writable, bad sbatch
// options), and one array task run by hand (`study task`, as the job script runs it) whose bundle
// `study collect` imports once, refusing it whole while it fails its checksum.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStudyRecipe } from '../../src-shared/study';
import { runCli } from '../helpers/cli';
import { openStore } from '../../src-main/store/run-store';
import { shipDataset } from '../../src-main/study/slurm/ship-dataset';
import { writeSlurmRecord } from '../../src-main/study/slurm/slurm-record';
import { openStudyFolder, readStudyState } from '../../src-main/study/study-folder';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-slurm-checks-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  fs.rmSync(root, { recursive: true, force: true });
});

const recipe = {
  name: 'solo', dataset: 'synthetic',
  train: {
    model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
    batchSize: 16, trainSamples: 64, evalSamples: 16, epochs: 1, maxBatchesPerEpoch: 2, backend: 'wasm', workers: 1,
  },
  arms: [{ method: 'fgsm-me' }], seeds: [0], eval: { attacks: ['clean', 'pgd20'], samples: 16, calibrationSamples: 32, backend: 'wasm' },
};
const recipeFile = path.join(root, 'solo.json');
fs.writeFileSync(recipeFile, JSON.stringify(recipe));
const folder = (name: string) => {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

/** A folder this process cannot write: read-only tmpfs as root (which ignores modes), mode 0555 otherwise; null where neither works. */
function unwritableFolder(): string | null {
  const dir = folder('read-only');
  if (process.getuid?.() !== 0) {
    fs.chmodSync(dir, 0o555);
    return dir;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return dir;
  } catch {
    return null;
  }
}

describe('study run --on slurm refuses bad input before it writes or submits anything', () => {
  const home = folder('home-checks');
  const nothingWritten = (shared: string) => {
    expect(fs.readdirSync(home)).toEqual([]);
    if (fs.existsSync(shared)) expect(fs.readdirSync(shared)).toEqual([]);
  };

  it('without sbatch on PATH', async () => {
    const shared = folder('shared-no-sbatch');
    const saved = process.env.PATH;
    process.env.PATH = folder('empty-bin');
    try {
      const r = await runCli(home, ['study', 'run', recipeFile, '--on', 'slurm', '--shared-dir', shared]);
      expect(r.code).toBe(1);
      expect(r.err).toBe("exitlab study: error: sbatch is not on PATH: run this where Slurm's client commands are (a login node of the cluster)");
    } finally {
      process.env.PATH = saved;
    }
    nothingWritten(shared);
  });

  it('with a shared directory that is missing, or not writable', async () => {
    const missing = path.join(root, 'no-such-dir');
    const r = await runCli(home, ['study', 'run', recipeFile, '--on', 'slurm', '--shared-dir', missing]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^exitlab study: error: --shared-dir \S+no-such-dir does not exist/);
    const readOnly = unwritableFolder();
    if (readOnly === null) return console.warn('unwritable shared directory not tested: cannot mount a read-only tmpfs here');
    const ro = await runCli(home, ['study', 'run', recipeFile, '--on', 'slurm', '--shared-dir', readOnly]);
    expect(ro.code).toBe(1);
    expect(ro.err).toMatch(new RegExp(`^exitlab study: error: --shared-dir ${readOnly} is not writable: ` +
      '(the file system is read-only \\(EROFS\\)|permission denied \\(EACCES\\))$'));
    nothingWritten(readOnly);
  });

  it('with sbatch options sbatch would not take, or Slurm options without --on slurm', async () => {
    const shared = folder('shared-options');
    const cases: Array<[string[], RegExp]> = [
      [['--on', 'slurm', '--shared-dir', shared, '--time', '2h'], /--time: a time limit is minutes, HH:MM:SS or D-HH:MM:SS/],
      [['--on', 'slurm', '--shared-dir', shared, '--sbatch-arg=--array=0-9'], /--sbatch-arg: the job script sets --array/],
      [['--on', 'slurm', '--shared-dir', shared, '--cpus-per-task', 'many'], /--cpus-per-task must be a whole number/],
      [['--on', 'cloud'], /--on must be slurm or local/],
      [['--partition', 'gpu'], /--partition is an option of `study run … --on slurm`/],
      [['--on', 'slurm'], /--on slurm needs --shared-dir/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(home, ['study', 'run', recipeFile, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    nothingWritten(shared);
  });
});

describe('an array task run by hand, and collect', () => {
  const home = folder('home-collect');
  const shared = folder('shared-collect');
  const { recipe: checked, cells } = checkStudyRecipe(recipe);
  const key = cells[0].key;
  const taskDir = path.join(shared, 'studies', 'solo', 'tasks', key);
  const storedRuns = () => {
    const store = openStore(home);
    try {
      return store.listRuns().map((r) => r.id);
    } finally {
      store.close();
    }
  };

  it('writes a bundle and its completion marker; collect refuses it while it fails its checksum, then imports it once', async () => {
    // What `study run --on slurm` lays out before it calls sbatch.
    openStudyFolder(home, checked);
    openStudyFolder(shared, checked);
    shipDataset(home, shared, 'synthetic');
    writeSlurmRecord(home, 'solo', { formatVersion: 1, sharedDir: shared, repo: root, submissions: [] });

    const task = await runCli(home, ['study', 'task', 'solo', '--cell', key, '--shared-dir', shared]);
    expect(task.code, task.err).toBe(0);
    expect(task.out).toMatch(/fgsm-me-s0 \(run run-\S+\): evaluated/);
    const marker = JSON.parse(fs.readFileSync(path.join(taskDir, 'marker.json'), 'utf8'));
    expect(marker).toMatchObject({ state: 'completed', cell: key, job: null, bundle: { file: 'run.exitlab' } });
    expect(fs.readdirSync(path.join(taskDir, 'home', 'datasets'))).toEqual(['synthetic']);

    const bundle = path.join(taskDir, 'run.exitlab');
    const good = fs.readFileSync(bundle);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    fs.writeFileSync(bundle, bad);
    const refused = await runCli(home, ['study', 'collect', 'solo']);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(`skipped ${key}: ${bundle} does not match the checksum its writer recorded (damaged, or rewritten since)`);
    expect(storedRuns()).toEqual([]);
    expect(fs.existsSync(path.join(home, 'runs'))).toBe(false);
    expect(readStudyState(home, 'solo').runs).toEqual({});

    fs.writeFileSync(bundle, good);
    const collected = await runCli(home, ['study', 'collect', 'solo', '--json']);
    expect(collected.code, collected.err).toBe(0);
    expect(JSON.parse(collected.out)).toEqual({ imported: [{ key, runId: marker.runId }], alreadyCollected: [], skipped: [], waiting: [] });
    expect(readStudyState(home, 'solo').runs).toEqual({ [key]: marker.runId });
    const again = await runCli(home, ['study', 'collect', 'solo', '--json']);
    expect(JSON.parse(again.out)).toEqual({ imported: [], alreadyCollected: [key], skipped: [], waiting: [] });
    expect(storedRuns()).toEqual([marker.runId]);

    const local = await runCli(home, ['study', 'run', 'solo']);
    expect(local.code).toBe(1);
    expect(local.err).toMatch(/study 'solo' runs on Slurm: continue it with `exitlab study run solo --on slurm`/);
  }, 180_000);
});
