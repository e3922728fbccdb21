// The study figures as data: which series each figure gets from the runs' metrics and reports, and
// what is left out (unusable early-exit points, numbers that are only upper bounds, empty figures).
import { describe, expect, it } from 'vitest';
import { attackColor, exitColor } from '../../../src-shared/colors';
import { studyFigures, type FigureSpec } from '../../../src-shared/study-figures';
import { attack, epochs, report, twoRuns } from './study-fixtures';

const byId = (figures: FigureSpec[], id: string) => {
  const f = figures.find((x) => x.id === id);
  if (!f) throw new Error(`no figure ${id}`);
  return f;
};

describe('study figures', () => {
  it('draw per-exit PGD accuracy and FC norm against epoch, one panel per run, one series per exit', () => {
    const figures = studyFigures(twoRuns());
    expect(figures.map((f) => f.id)).toEqual(['overfitting', 'fc-norm', 'feature-distance', 'accuracy-vs-macs', 'accuracy-vs-time']);

    const overfitting = byId(figures, 'overfitting');
    expect(overfitting.panels.map((p) => p.title)).toEqual(['fgsm-me · λ paper · seed 0', 'pgd-at · seed 0']);
    const second = overfitting.panels[1];
    expect(second).toMatchObject({ xLabel: 'epoch', percent: true, kind: 'line' });
    expect(second.series.map((s) => s.label)).toEqual(['exit 1', 'exit 2', 'exit 3']);
    expect(second.series.map((s) => s.color)).toEqual([exitColor(0), exitColor(1), exitColor(2)]);
    expect(second.series[2].points.map((p) => p.x)).toEqual([1, 2, 3]);
    // run 1, exit index 2: 0.1 + 0.01·epoch + 0.002
    second.series[2].points.forEach((p, i) => expect(p.y).toBeCloseTo(0.1 + 0.01 * (i + 1) + 0.002, 12));

    const norms = byId(figures, 'fc-norm');
    expect(norms.panels[0]).toMatchObject({ percent: false, kind: 'line' });
    expect(norms.panels[0].series[1].points).toEqual([{ x: 1, y: 1.1 }, { x: 2, y: 2.1 }, { x: 3, y: 3.1 }]);
  });

  it('draws the feature distance against block, FGSM and PGD-20, for the runs that measured it', () => {
    const fig = studyFigures(twoRuns()).find((f) => f.id === 'feature-distance')!;
    expect(fig.panels.map((p) => p.title)).toEqual(['fgsm-me · λ paper · seed 0']);
    expect(fig.panels[0].series.map((s) => [s.label, s.points])).toEqual([
      ['FGSM', [{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: 3 }]],
      ['PGD-20', [{ x: 1, y: 1.5 }, { x: 2, y: 3 }, { x: 3, y: 4.5 }]],
    ]);
  });

  it('keeps the same colour for an exit in every run, and colours exits 8+ too', () => {
    const runs = twoRuns();
    runs[0].epochs = epochs(0, 2, 9);
    const panels = byId(studyFigures(runs), 'overfitting').panels;
    expect(panels[0].series).toHaveLength(9);
    expect(panels[0].series[2].color).toBe(panels[1].series[2].color);
    expect(panels[0].series[8].color).toMatch(/^#[0-9a-f]{6}$/);
    expect(new Set(panels[0].series.map((s) => s.color)).size).toBe(9);
  });

  it('plots the early-exit model at its measured MACs, leaving out infeasible and unaimed points', () => {
    const f = byId(studyFigures(twoRuns()), 'accuracy-vs-macs');
    expect(f.panels.map((p) => p.title)).toEqual(['fgsm-me · λ paper · seed 0', 'pgd-at · seed 0']);
    const [a, b] = f.panels;
    expect(a.series.map((s) => [s.label, s.color])).toEqual([['clean', attackColor('clean')], ['PGD-20', attackColor('pgd20')]]);
    // Sorted by cost, whatever the order of the budgets in the report.
    expect(a.series[0].points).toEqual([{ x: 1e6, y: 0.5 }, { x: 1.5e6, y: 0.65 }]);
    expect(a.series[1].points).toEqual([{ x: 1e6, y: 0.2 }, { x: 1.4e6, y: 0.35 }]);
    // Run b: the infeasible clean budget is gone, and PGD-20 (aimed elsewhere) has no series left.
    expect(b.series.map((s) => s.label)).toEqual(['clean']);
    expect(b.series[0].points).toEqual([{ x: 1.5e6, y: 0.7 }]);
  });

  it('plots last-exit accuracy against training minutes, one point per run, naming each run once', () => {
    const f = byId(studyFigures(twoRuns()), 'accuracy-vs-time');
    expect(f.panels).toHaveLength(1);
    const [panel] = f.panels;
    expect(panel).toMatchObject({ kind: 'scatter', percent: true, xLabel: 'training time (minutes)' });
    const clean = panel.series.find((s) => s.label === 'clean');
    const pgd = panel.series.find((s) => s.label === 'PGD-20');
    expect(clean?.points).toEqual([{ x: 10, y: 0.7, label: 'fgsm-me' }, { x: 30, y: 0.75, label: 'pgd-at' }]);
    // Run b's PGD-20 aimed at exit 1 only (target exit:1): its last-exit number is no measurement.
    expect(pgd?.points).toEqual([{ x: 10, y: 0.4 }]);
  });

  it('orders the time series clean … AutoAttack, and keeps differently-set runs of one attack apart', () => {
    const runs = twoRuns();
    runs[0].evaluation = report('a', [attack('aa', 'AutoAttack (standard)', [0.3], []), attack('clean', 'clean', [0.8], [])]);
    runs[1].evaluation = report('b', [attack('aa', 'AutoAttack (reduced: 10 steps)', [0.35], []), attack('clean', 'clean', [0.7], [])]);
    const [panel] = byId(studyFigures(runs), 'accuracy-vs-time').panels;
    expect(panel.series.map((s) => s.label)).toEqual(['clean', 'AutoAttack (standard)', 'AutoAttack (reduced: 10 steps)']);
    expect(panel.series[1].points).toEqual([{ x: 10, y: 0.3 }]);
  });

  it('skips the runs, panels and figures that have nothing to draw', () => {
    const runs = twoRuns();
    runs[0].trainSeconds = null;
    runs[1].evaluation = null;
    runs[1].epochs = [];
    const withoutFeatures = studyFigures(runs.map((r) => ({ ...r, featureDistance: null }))).map((f) => f.id);
    expect(withoutFeatures).not.toContain('feature-distance');
    const figures = studyFigures(runs);
    // Run a has no time and run b no evaluation: no point for the time figure.
    expect(figures.map((f) => f.id)).toEqual(['overfitting', 'fc-norm', 'feature-distance', 'accuracy-vs-macs']);
    expect(byId(figures, 'overfitting').panels.map((p) => p.title)).toEqual(['fgsm-me · λ paper · seed 0']);
    expect(byId(figures, 'accuracy-vs-macs').panels.map((p) => p.title)).toEqual(['fgsm-me · λ paper · seed 0']);
    expect(studyFigures([])).toEqual([]);
  });

  it('leaves out non-finite values instead of passing them to the axes', () => {
    const runs = twoRuns().slice(0, 1);
    runs[0].epochs[1].exits[0].valPgdAcc = Number.NaN;
    const [first] = byId(studyFigures(runs), 'overfitting').panels[0].series;
    expect(first.points.map((p) => p.x)).toEqual([1, 3]);
  });
});
