// `exitlab eval` and `exitlab table` on runs trained through the run service on the synthetic set:
// the full attack list (reduced AutoAttack, labelled as such) on the first 16 test images, the
// ordering AutoAttack ≤ PGD-20 ≤ clean per exit, the report file, the store rows, the paper table,
// the eval.run API handler (evaluation in a child process) and bad input that writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainConfigSchema, type TrainConfigInput } from '../../src-shared/config';
import { EvaluationReportSchema, PaperTableSchema } from '../../src-shared/evaluation';
import { RunDetailSchema } from '../../src-shared/runs';
import { runCli } from '../helpers/cli';
import { RunService } from '../../src-main/runs/service';
import { evalHandlers } from '../../src-main/api/handlers/eval';
import type { ApiContext } from '../../src-main/api/context';
import { openStore } from '../../src-main/store/run-store';

const TINY: TrainConfigInput = {
  dataset: 'synthetic',
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 32, trainSamples: 1024, evalSamples: 32, epochs: 4, maxBatchesPerEpoch: 16, backend: 'wasm', seed: 5,
};
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-eval-'));
const ids = { a: '', b: '' };

const cli = (...argv: string[]) => runCli(home, argv);
const reportsOf = (id: string) => {
  const dir = path.join(home, 'runs', id, 'evaluations');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};
const evaluationRows = (id: string) => {
  const store = openStore(home);
  try {
    return store.getRun(id).evaluations;
  } finally {
    store.close();
  }
};

beforeAll(async () => {
  const service = new RunService({ home });
  const a = service.start(TrainConfigSchema.parse({ ...TINY, method: 'fgsm-me' }), { name: 'paper' });
  expect((await a.done).final).toMatchObject({ type: 'finished' });
  const b = service.start(TrainConfigSchema.parse({ ...TINY, method: 'standard', eps: 0, epochs: 1, maxBatchesPerEpoch: 4 }));
  expect((await b.done).final).toMatchObject({ type: 'finished' });
  Object.assign(ids, { a: a.runId, b: b.runId });
  await service.close();
}, 120_000);

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('exitlab eval / table', () => {
  it('evaluates clean, FGSM, PGD-20, CW and (reduced) AutoAttack per exit: AA ≤ PGD-20 ≤ clean; report file and store rows', async () => {
    const r = await cli('eval', '--run', ids.a, '--attacks', 'clean,fgsm,pgd20,cw,aa', '--samples', '16', '--eps', '8',
      '--aa-steps', '25', '--aa-targets', '3', '--aa-queries', '300', '--budgets', '0.9,1', '--calibration', '200', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const { file, report: raw } = JSON.parse(r.out);
    const report = EvaluationReportSchema.parse(raw);
    expect(report).toMatchObject({
      runId: ids.a, method: 'fgsm-me', dataset: 'synthetic', samples: 16, calibrationSamples: 200, eps: 8, checkpoint: 'last', epoch: 4,
    });
    const acc = Object.fromEntries(report.attacks.map((a) => [a.attack, a.perExit]));
    expect(Object.keys(acc)).toEqual(['clean', 'fgsm', 'pgd20', 'cw', 'aa']);
    expect(report.attacks.find((a) => a.attack === 'aa')!.label).toBe('AutoAttack (reduced: 25 it, 3 targets, 300 queries)');
    // Every component is counted, also one that fooled nothing; per-image outcomes are stored.
    expect(Object.keys(report.attacks.find((a) => a.attack === 'aa')!.gains ?? {}).sort()).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    for (const a of report.attacks) {
      expect(a.robustImages!.exits.map((s) => s.length)).toEqual([16, 16]);
      expect(a.robustImages!.exits.map((s) => [...s].filter((c) => c === '1').length / 16)).toEqual(a.perExit);
    }
    expect(report.attacks.find((a) => a.attack === 'pgd20')).toMatchObject({ label: 'PGD-20', steps: 20, eps: 8, samples: 16 });
    for (let e = 0; e < 2; e++) {
      expect(acc.aa[e]).toBeLessThanOrEqual(acc.pgd20[e]);
      expect(acc.pgd20[e]).toBeLessThanOrEqual(acc.clean[e]);
      expect(acc.fgsm[e]).toBeLessThanOrEqual(acc.clean[e]);
    }
    // The run learned something: clean accuracy of the last exit above chance (10 classes).
    expect(acc.clean[1]).toBeGreaterThan(0.1);
    for (const a of report.attacks) expect(a.earlyExit.map((p) => p.fraction)).toEqual([0.9, 1]);
    // The report file in the run's folder is what was printed.
    expect(path.dirname(file)).toBe(path.join(home, 'runs', ids.a, 'evaluations'));
    expect(EvaluationReportSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')))).toEqual(report);
    // One store row per attack, with its per-exit accuracy and early-exit result.
    const rows = evaluationRows(ids.a);
    expect(rows.map((e) => e.attack)).toEqual(['clean', 'fgsm', 'pgd20', 'cw', 'aa']);
    rows.forEach((row, i) => {
      expect(row).toMatchObject({ samples: 16, eps: report.attacks[i].eps, checkpoint: 'last', perExitAcc: report.attacks[i].perExit });
      expect(row.earlyExit?.accuracy).toBe(report.attacks[i].earlyExit[0].accuracy);
    });
    const show = RunDetailSchema.parse(JSON.parse((await cli('runs', 'show', ids.a, '--json')).out.trim().split('\n').pop()!));
    expect(show.artefacts.map((x) => x.kind)).toContain('evaluation-report');
  }, 60_000);

  it('prints a per-exit table on a terminal-less stdout too', async () => {
    const r = await cli('eval', '--run', ids.b, '--attacks', 'clean,fgsm', '--samples', '8', '--budgets', 'none');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/attack\s+exit 1\s+exit 2\s+time/);
    expect(r.out).toMatch(/^clean\s+\d+\.\d%\s+\d+\.\d%/m);
    expect(r.out).toMatch(/^FGSM\s+\d+\.\d%\s+\d+\.\d%/m);
    expect(r.out).toMatch(/report: .*evaluations.*\.json/);
  });

  it('builds the paper-style table from the latest reports, with training time, as Markdown and JSON', async () => {
    const md = await cli('table', '--runs', `${ids.a},${ids.b}`);
    expect(md.code).toBe(0);
    const lines = md.out.split('\n');
    expect(lines[0]).toBe(
      '| Method | Run | Data set | Epochs | clean | FGSM | PGD-20 | CW∞-30 | AutoAttack (reduced: 25 it, 3 targets, 300 queries) | Training time |',
    );
    expect(lines[2]).toMatch(new RegExp(
      `^\\| fgsm-me \\| ${ids.a} \\| synthetic \\| 4 \\| \\d+\\.\\d \\| \\d+\\.\\d \\| \\d+\\.\\d \\| \\d+\\.\\d \\| \\d+\\.\\d \\| \\d+\\.\\d s \\|$`,
    ));
    expect(lines[3]).toMatch(
      new RegExp(`^\\| standard \\| ${ids.b} \\| synthetic \\| 1 \\| \\d+\\.\\d \\| \\d+\\.\\d \\| – \\| – \\| – \\| \\d+\\.\\d s \\|$`),
    );
    const js = await cli('table', '--runs', `${ids.a},${ids.b}`, '--format', 'json', '--view', 'exit:1');
    const t = PaperTableSchema.parse(JSON.parse(js.out));
    expect(t.view).toBe('exit 1');
    expect(t.rows[0].trainingSeconds).toBeGreaterThan(0);
    expect(t.rows[0].cells.aa).toBe(t.rows[0].perExit.aa[0]);
    expect((await cli('table', '--runs', ids.a, '--view', 'early:0.9')).out).toMatch(/early-exit model at budget 0\.9/);
  });

  it('eval.run (the app) evaluates in a child process with progress events and records the result', async () => {
    const before = evaluationRows(ids.b).length;
    const events: Array<{ fraction: number | null; message: string }> = [];
    const store = openStore(home);
    // A partial ApiContext: the eval handler uses only the home, the store and the hub's emit.
    const ctx = {
      home, runs: { store }, hub: { emit: (name: string, p: { fraction: number | null; message: string }) => name === 'job.progress' && events.push(p) },
    } as unknown as ApiContext;
    try {
      const evaluations = await evalHandlers(ctx)['eval.run']({
        runId: ids.b, attacks: ['clean', 'pgd20'], samples: 8, eps: 4, target: 'average', checkpoint: 'last', workers: null, jobId: 'job-1',
      });
      expect(evaluations.map((e) => e.attack)).toEqual(['clean', 'pgd20']);
      expect(evaluations[1]).toMatchObject({ eps: 4, steps: 20, samples: 8 });
      expect(events.length).toBeGreaterThan(2);
      expect(events.at(-1)!.fraction).toBe(1);
      expect(events.some((e) => /pgd20: \d+\/\d+ batches/.test(e.message))).toBe(true);
      await expect(Promise.resolve().then(
        () => evalHandlers(ctx)['eval.run']({
          runId: 'run-nope', attacks: ['clean'], samples: 8, eps: 8, target: 'average', checkpoint: 'last', workers: null,
        }),
      )).rejects.toMatchObject({ code: 'not-found' });
    } finally {
      store.close();
    }
    expect(evaluationRows(ids.b).length).toBe(before + 2);
  }, 60_000);

  it('refuses bad input with one error line, a non-zero exit and nothing written', async () => {
    const rowsBefore = evaluationRows(ids.a).length;
    const filesBefore = reportsOf(ids.a).length;
    const unknownRun = await cli('eval', '--run', 'run-19990101-000000-abcdef', '--attacks', 'clean');
    expect(unknownRun.code).toBe(1);
    expect(unknownRun.err).toMatch(/^exitlab eval: error: unknown run 'run-19990101-000000-abcdef'/);
    const unknownAttack = await cli('eval', '--run', ids.a, '--attacks', 'clean,pgd7');
    expect(unknownAttack.code).toBe(2);
    expect(unknownAttack.err).toBe(
      "exitlab eval: error: unknown attack 'pgd7' (attacks: clean, fgsm, pgd20, pgd50, bim, mim, cw, cw100, apgd-ce, apgd-t, fab-t, square, aa)",
    );
    for (const n of ['0', '-3', 'many']) {
      const bad = await cli('eval', '--run', ids.a, `--samples=${n}`);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/^exitlab eval: error: --samples must be a whole number ≥ 1/);
    }
    const tooMany = await cli('eval', '--run', ids.a, '--attacks', 'clean', '--samples', '5000');
    expect(tooMany.code).toBe(1);
    expect(tooMany.err).toMatch(/more than the 1000 test images/);
    // A run without a checkpoint: hide run b's checkpoints for a moment.
    const dir = path.join(home, 'runs', ids.b);
    const ckpts = fs.readdirSync(dir).filter((f) => f.endsWith('.ckpt'));
    for (const f of ckpts) fs.renameSync(path.join(dir, f), path.join(dir, `${f}.hidden`));
    try {
      const none = await cli('eval', '--run', ids.b, '--attacks', 'clean');
      expect(none.code).toBe(1);
      expect(none.err).toMatch(/^exitlab eval: error: run '.*' has no last checkpoint: it stopped before its first checkpoint/);
      expect(none.err.split('\n')).toHaveLength(1);
    } finally {
      for (const f of ckpts) fs.renameSync(path.join(dir, `${f}.hidden`), path.join(dir, f));
    }
    const badView = await cli('table', '--runs', ids.a, '--view', 'exit:9');
    expect(badView.code).toBe(2);
    expect((await cli('table', '--runs', 'run-nope')).code).toBe(1);
    expect(evaluationRows(ids.a).length).toBe(rowsBefore);
    expect(reportsOf(ids.a).length).toBe(filesBefore);
  });

  it('an attack aimed at one exit leaves the others unmarked as attacked; infeasible budgets, checkpoint and epoch in every output; ' +
    'the paper columns', async () => {
    const r = await cli(
      'eval', '--run', ids.a, '--attacks', 'clean,pgd20,bim,mim', '--samples', '8', '--target', 'exit:2', '--budgets', '0.01,1', '--calibration', '100',
      '--json',
    );
    expect(r.code).toBe(0);
    const report = EvaluationReportSchema.parse(JSON.parse(r.out).report);
    const pgd = report.attacks.find((a) => a.attack === 'pgd20')!;
    expect(pgd.aimedAt).toEqual([null, 'exit:2']);
    expect(report.attacks.find((a) => a.attack === 'clean')!.aimedAt).toEqual(['none', 'none']);
    expect(pgd.earlyExit.map((p) => [p.fraction, p.feasible, p.aimed])).toEqual([[0.01, false, false], [1, true, false]]);
    expect(report.attacks.map((a) => a.label)).toEqual(['clean', 'PGD-20', 'BIM-20', 'MIM-20']);
    expect(report.attacks.find((a) => a.attack === 'mim')!.settings).toMatchObject({ momentum: 1, randomStart: false, target: 'exit:2' });

    const human = await cli(
      'eval', '--run', ids.a, '--attacks', 'clean,bim', '--samples', '8', '--target', 'exit:2', '--budgets', '0.01,1', '--calibration', '100',
    );
    expect(human.out).toMatch(/last checkpoint \(epoch 4\)/);
    expect(human.out).toMatch(/^BIM-20\s+–\s+\d+\.\d%\s+infeasible\s+–/m);
    expect(human.out).toMatch(/^clean\s+\d+\.\d%\s+\d+\.\d%\s+infeasible\s+\d+\.\d%/m);
    expect(human.out).toMatch(/0\.01: infeasible: even exit 1 costs/);

    const view = PaperTableSchema.parse(JSON.parse((await cli('table', '--runs', ids.a, '--view', 'exit:1', '--format', 'json')).out));
    expect(view.rows[0]).toMatchObject({ checkpoint: 'last', checkpointEpoch: 4, target: 'exit:2' });
    expect(view.rows[0].cells.bim).toBeNull();
    expect(view.rows[0].cells.clean).not.toBeNull();
    expect(view.rows[0].notes.join('\n')).toMatch(/BIM-20 aimed at exit:2, not at exit 1/);
    expect((await cli('table', '--runs', ids.a, '--view', 'exit:2')).out).toMatch(/\| fgsm-me \| .* \| \d+\.\d \| \d+\.\d \|/);
    const early = await cli('table', '--runs', ids.a, '--view', 'early:0.01', '--format', 'json');
    expect(PaperTableSchema.parse(JSON.parse(early.out)).rows[0].notes.join('\n')).toMatch(/budget 0\.01 is infeasible/);
    const paper = await cli('table', '--runs', ids.a, '--paper');
    expect(paper.out.split('\n')[0]).toBe(
      '| Method | Run | Data set | Epochs | clean | PGD-20 | BIM-20 | MIM-20 | CW∞-100 | AutoAttack (standard) | Training time |',
    );
    expect(paper.out).toMatch(/last checkpoint \(epoch 4\), attacks aimed at exit:2/);

    const show = await cli('runs', 'show', ids.a);
    expect(show.out).toMatch(
      /evaluation #\d+: BIM-20 ε 8\/255, 8 images, last checkpoint \(epoch 4\), aimed at exit:2: – \d+\.\d%; early exit @0\.01 infeasible @1 –/,
    );

    // The store keeps what each evaluation aimed at, so the app and `runs compare` (which read no
    // report files) show no number for an exit the attack did not aim at.
    const store = openStore(home);
    const bim = store.getRun(ids.a).evaluations.filter((e) => e.attack === 'bim').at(-1)!;
    store.close();
    expect([bim.target, bim.aimedAt]).toEqual(['exit:2', [null, 'exit:2']]);
    // The recorded early-exit point is the budget nearest 0.5: here 0.01, which no exit can meet.
    expect(bim.earlyExit).toMatchObject({ feasible: false, aimed: false });
    const compared = JSON.parse((await cli('runs', 'compare', ids.a, ids.b, '--json')).out);
    const row = compared.robustness.find((x: { runId: string; attack: string; source: string }) => x.runId === ids.a && x.attack === 'bim');
    expect(row.perExitAcc[0]).toBeNull();
    expect(row.perExitAcc[1]).toBeTypeOf('number');
    expect(row.earlyExitAcc).toBeNull();

    const out = path.join(home, 'exported');
    const exported = await cli('export', '--run', ids.a, '--format', 'tfjs', '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(/last checkpoint of epoch 4/);
  }, 60_000);
});
