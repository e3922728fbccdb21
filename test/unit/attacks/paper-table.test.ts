// The paper-style table from runs and their evaluation reports: cells per view, training time from
// the store, and the exact Markdown.
import { describe, expect, it } from 'vitest';
import type { EvaluationReport } from '../../../src-shared/evaluation';
import type { RunDetail } from '../../../src-shared/runs';
import { buildPaperTable, paperTableMarkdown, parseView } from '../../../src-main/engine/eval/paper-table';

function detail(id: string, method: string, epochSeconds: number[]): RunDetail {
  // A partial RunDetail (and EvaluationReport below): the table reads only these fields.
  return {
    summary: { id, method, dataset: 'synthetic', epochsDone: epochSeconds.length, seconds: epochSeconds.reduce((a, b) => a + b, 0) + 5 },
    epochs: epochSeconds.map((seconds, i) => ({ epoch: i + 1, seconds })),
  } as unknown as RunDetail;
}

const point = (fraction: number, accuracy: number) => ({ fraction, budgetMacs: 1, threshold: 0.5, accuracy, macs: 1, exitShare: [0.5, 0.5] });
const result = (attack: string, label: string, perExit: number[], early: number) => ({
  attack, label, eps: attack === 'clean' ? 0 : 8, steps: 0, restarts: 1, samples: 100, settings: {}, perExit, earlyExit: [point(0.5, early)], gains: null,
  seconds: 1,
});
function report(runId: string, attacks: ReturnType<typeof result>[], warnings: string[] = []): EvaluationReport {
  // (partial, see above)
  return { runId, samples: 100, eps: 8, attacks, warnings } as unknown as EvaluationReport;
}

const inputs = [
  { detail: detail('run-a', 'fgsm-me', [60, 60]), report: report('run-a', [
    result('aa', 'AutoAttack (standard)', [0.2, 0.3], 0.25), result('clean', 'clean', [0.7, 0.8], 0.75), result('pgd20', 'PGD-20', [0.3, 0.4], 0.35),
  ]) },
  {
    detail: detail('run-b', 'trades', [150, 150]),
    report: report('run-b', [result('clean', 'clean', [0.72, 0.81], 0.76), result('pgd20', 'PGD-20', [0.31, 0.42], 0.37)], [
      'possible gradient masking at exit 2: …',
    ]),
  },
  { detail: detail('run-c', 'standard', []), report: null },
];

describe('paper table', () => {
  it('parses views', () => {
    expect(parseView('last')).toEqual({ kind: 'last' });
    expect(parseView('exit:2')).toEqual({ kind: 'exit', exit: 2 });
    expect(parseView('early:0.5')).toEqual({ kind: 'early', fraction: 0.5 });
    expect(() => parseView('exit:0')).toThrow(/a view is/);
  });

  it('reads the chosen view, orders columns clean … AutoAttack, and sums training time', () => {
    const t = buildPaperTable(inputs, { kind: 'last' });
    expect(t.attacks.map((a) => a.attack)).toEqual(['clean', 'pgd20', 'aa']);
    expect(t.rows[0].cells).toEqual({ clean: 0.8, pgd20: 0.4, aa: 0.3 });
    expect(t.rows[1].cells).toEqual({ clean: 0.81, pgd20: 0.42, aa: null });
    expect(t.rows[2].cells).toEqual({ clean: null, pgd20: null, aa: null });
    expect(t.rows.map((r) => r.trainingSeconds)).toEqual([120, 300, null]);
    expect(buildPaperTable(inputs, { kind: 'exit', exit: 1 }).rows[0].cells.pgd20).toBe(0.3);
    expect(buildPaperTable(inputs, { kind: 'early', fraction: 0.5 }).rows[1].cells.clean).toBe(0.76);
    expect(buildPaperTable(inputs, { kind: 'early', fraction: 0.25 }).rows[0].cells.clean).toBeNull();
  });

  it('writes Markdown', () => {
    expect(paperTableMarkdown(buildPaperTable(inputs, { kind: 'last' }))).toBe([
      '| Method | Run | Data set | Epochs | clean | PGD-20 | AutoAttack (standard) | Training time |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
      '| fgsm-me | run-a | synthetic | 2 | 80.0 | 40.0 | 30.0 | 2.0 min |',
      '| trades | run-b | synthetic | 2 | 81.0 | 42.0 | – | 5.0 min |',
      '| standard | run-c | synthetic | 0 | – | – | – | – |',
      '',
      "- Accuracy (%) of the last exit under each attack; training time is the sum of the epochs' engine time.",
      '- run-a: first 100 test images, L∞ ε = 8/255.',
      '- run-b: first 100 test images, L∞ ε = 8/255.',
      '- run-b: ⚠ possible gradient masking at exit 2: …',
      '- run-c: not evaluated yet (`exitlab eval --run run-c`).',
      '',
    ].join('\n'));
  });
});
