// `exitlab study` on the synthetic set with a tiny network: a 2-run grid trained and evaluated as a
// queue, the report folder, a second `study run` that starts nothing, a study stopped mid-run that
// resumes the same run, a run id recorded before its run was created, runs side by side (--parallel),
// and bad recipes that write nothing.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkStudyRecipe } from '../../src-shared/study';
import { runCli } from '../helpers/cli';
import { RunService } from '../../src-main/runs/service';
import { openStore } from '../../src-main/store/run-store';
import { runStudy, type CellPhase } from '../../src-main/study/run-study';
import { writeStudyState } from '../../src-main/study/study-folder';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-study-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const TRAIN = {
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16, trainSamples: 256, evalSamples: 16, epochs: 2, maxBatchesPerEpoch: 2, backend: 'wasm', workers: 1,
};
const recipe = (name: string, arms: unknown[] = [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }]) => ({
  name, dataset: 'synthetic', train: TRAIN, arms, seeds: [3],
  eval: { attacks: ['clean', 'pgd20'], samples: 16, calibrationSamples: 32, backend: 'wasm' },
});
const writeRecipe = (r: unknown) => {
  const file = path.join(home, `${(r as { name: string }).name}.json`);
  fs.writeFileSync(file, JSON.stringify(r));
  return file;
};
const runIds = () => {
  const store = openStore(home);
  try {
    return store.listRuns().map((r) => r.id).sort();
  } finally {
    store.close();
  }
};
const status = async (name: string) => JSON.parse((await runCli(home, ['study', 'status', name, '--json'])).out) as Array<{
  key: string; state: string; runId: string | null;
}>;

describe('exitlab study', () => {
  it('trains and evaluates every run of the grid, writes the report, and a second run starts nothing', async () => {
    // fgsm trains a single-exit network: its evaluation must rebuild that one, not the recipe's 2 exits.
    const r = await runCli(home, [
      'study', 'run', writeRecipe(recipe('pair', [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }, { method: 'fgsm' }])), '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const states = await status('pair');
    expect(states.map((s) => [s.key, s.state])).toEqual([['fgsm-me-s3', 'evaluated'], ['fgsm-me-lambda-0-s3', 'evaluated'], ['fgsm-s3', 'evaluated']]);
    const dir = path.join(home, 'studies', 'pair', 'report');
    for (const f of [
      'index.html', 'table.md', 'report.json', 'figures/overfitting.png', 'figures/overfitting.svg', 'figures/fc-norm.svg', 'figures/feature-distance.svg',
    ]) {
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
    }
    const table = fs.readFileSync(path.join(dir, 'table.md'), 'utf8');
    expect(table).toContain(`| fgsm-me λ=0 | 3 | ${states[1].runId} | 2 |`);
    expect(table).toMatch(/\| \*proposed \(fgsm-me\)\* \|.*\| 81\.93 \| 49\.30 \|.*reported by Chen et al\. 2022 \|/);

    const before = runIds();
    const again = await runCli(home, ['study', 'run', 'pair', '--json']);
    expect(again.code).toBe(0);
    const phases = again.out.split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'study').map((e) => `${e.key}:${e.phase}`);
    expect(phases).toEqual([
      'fgsm-me-s3:trained', 'fgsm-me-s3:evaluated', 'fgsm-me-lambda-0-s3:trained', 'fgsm-me-lambda-0-s3:evaluated', 'fgsm-s3:trained', 'fgsm-s3:evaluated',
    ]);
    expect(runIds()).toEqual(before);
    expect(fs.readdirSync(path.join(home, 'runs', states[0].runId!, 'evaluations')).sort()).toEqual([expect.stringMatching(/^eval-.*\.json$/), 'feature-distance.json']);
  }, 300_000);

  it('a study stopped mid-run continues that run from its checkpoint; a recorded run id is used, never a second run', async () => {
    const { recipe: r, cells } = checkStudyRecipe(recipe('stop'));
    // As if the study had been killed right after recording the second cell's run id.
    writeStudyState(home, 'stop', { formatVersion: 1, runs: { [cells[1].key]: 'run-recorded-before-start' } });
    const before = runIds();
    const service = new RunService({ home });
    const queue = runStudy(service, r, cells, { onEngineEvent: (_, e) => e.type === 'checkpoint' && queue.stop() });
    const first = await queue.done;
    expect(first.stopped).toBe(true);
    const phases: string[] = [];
    const second = await runStudy(service, r, cells, { onCell: (p) => phases.push(`${p.cell.key}:${p.phase as CellPhase}`) }).done;
    await service.close();
    expect(second).toEqual({ failed: [], stopped: false });
    expect(phases[0]).toBe('fgsm-me-s3:resuming');
    expect(phases).toContain('fgsm-me-lambda-0-s3:training');
    const added = runIds().filter((id) => !before.includes(id));
    expect(added).toHaveLength(2);
    expect(added).toContain('run-recorded-before-start');
    expect((await status('stop')).every((s) => s.state === 'evaluated')).toBe(true);
  }, 300_000);

  it('trains runs side by side with --parallel, each with its share of the cores, and evaluates every one', async () => {
    const r = await runCli(home, ['study', 'run', writeRecipe({ ...recipe('lanes'), train: { ...TRAIN, workers: null } }), '--parallel', '2', '--json']);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const phases = r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'study').map((e) => `${e.key}:${e.phase}`);
    const [first, second] = checkStudyRecipe(recipe('lanes')).cells.map((c) => c.key);
    // The second run started before the first had finished training: they ran at the same time.
    expect(phases.indexOf(`${second}:training`)).toBeLessThan(phases.indexOf(`${first}:trained`));
    const states = await status('lanes');
    expect(states.map((c) => c.state)).toEqual(['evaluated', 'evaluated']);
    // Each lane gets half the cores (a batch of 16 allows at most two shards of 8).
    const share = Math.max(1, Math.min(Math.floor(os.availableParallelism() / 2), 2));
    const store = openStore(home);
    try {
      expect(states.map((c) => store.getRun(c.runId!).config.workers)).toEqual([share, share]);
    } finally {
      store.close();
    }
  }, 300_000);

  it('refuses a bad recipe or an unknown data set before anything is written, naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [recipe('bad1', [{ method: 'sgd' }]), /arms\.0\.method/],
      [recipe('bad2', []), /arms: a study needs at least one arm/],
      [recipe('bad3', [{ method: 'fgsm-me', lambda: [0.1] }]), /arms\.0\.lambda: 1 value\(s\) but the network has 2 exit\(s\)/],
      [{ ...recipe('bad4'), eval: { attacks: ['nope'] } }, /eval\.attacks\.0/],
      [{ ...recipe('bad5'), dataset: 'missing' }, /unknown data set 'missing'/],
    ];
    for (const [bad, message] of cases) {
      const r = await runCli(home, ['study', 'run', writeRecipe(bad)]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(fs.existsSync(path.join(home, 'studies', (bad as { name: string }).name))).toBe(false);
    }
    const changed = await runCli(home, [
      'study', 'run', writeRecipe({ ...recipe('pair', [{ method: 'fgsm-me' }, { method: 'fgsm-me', lambda: 'zero' }, { method: 'fgsm' }]), seeds: [4] }),
    ]);
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/study 'pair' exists with another recipe \(it differs in: seeds\)/);
    const zero = await runCli(home, ['study', 'run', writeRecipe(recipe('bad6')), '--parallel', '0']);
    expect(zero.code).toBe(2);
    expect(zero.err).toMatch(/--parallel must be from 1 to 64, got '0'/);
    expect(fs.existsSync(path.join(home, 'studies', 'bad6'))).toBe(false);
  });
});
