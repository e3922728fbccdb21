// The paper-study figures as plain data: which series each figure has, built from a study's runs
// (their per-epoch metrics and evaluation reports). Drawing is someone else's job (chart.js in the
// app, and in src-main/report for the PNG and SVG files), so that both show the same numbers.
// Accuracies stay fractions here; a panel marked `percent` is shown in %.
import { z } from 'zod';
import { exitColor, attackColor } from './colors';
import { EVAL_ATTACKS, aimOf, type EvalAttack, type EvaluationReport } from './evaluation';
import type { EpochMetrics, ExitEpochMetrics } from './metrics';
import type { FeatureDistanceReport } from './feature-distance';

export interface StudyRunFigureInput {
  /** The grid cell, e.g. "fgsm-me · λ paper · seed 0". */
  label: string;
  /** "fgsm-me", "fgsm", "pgd-at", … */
  method: string;
  /** Per-epoch metrics, in order. */
  epochs: EpochMetrics[];
  trainSeconds: number | null;
  evaluation: EvaluationReport | null;
  featureDistance: FeatureDistanceReport | null;
}

/** `label`: a name written beside the point (a scatter of runs says which run a point is). */
const FigurePointSchema = z.object({ x: z.number(), y: z.number(), label: z.string().optional() });
export type FigurePoint = z.infer<typeof FigurePointSchema>;

const FigureSeriesSchema = z.object({ label: z.string(), color: z.string(), points: z.array(FigurePointSchema) });
export type FigureSeries = z.infer<typeof FigureSeriesSchema>;

const FigurePanelSchema = z.object({
  title: z.string(),
  xLabel: z.string(),
  yLabel: z.string(),
  percent: z.boolean(),
  kind: z.enum(['line', 'scatter']),
  series: z.array(FigureSeriesSchema),
});
export type FigurePanel = z.infer<typeof FigurePanelSchema>;

export const FigureSpecSchema = z.object({ id: z.string(), title: z.string(), caption: z.string(), panels: z.array(FigurePanelSchema) });
export type FigureSpec = z.infer<typeof FigureSpecSchema>;

export function studyFigures(runs: StudyRunFigureInput[]): FigureSpec[] {
  const figures = [
    figure('overfitting', 'Per-exit robust accuracy over training',
      'Held-out PGD accuracy of each exit after every epoch, one panel per run. A deep exit whose curve collapses to near 0 while the shallow ones keep ' +
        'rising is catastrophic overfitting.',
      perExitPanels(runs, 'PGD accuracy', true, (m) => m.valPgdAcc)),
    figure('fc-norm', "Norm of each exit's classifier weights over training",
      "Frobenius norm of each exit's fully connected weights at the end of every epoch, one panel per run. The paper links an exit's overfitting to this " +
        "norm growing past the earlier exits'.",
      perExitPanels(runs, 'FC weight norm', false, (m) => m.fcWeightNorm)),
    figure('feature-distance', 'Clean-vs-adversarial feature distance per block',
      "Mean L2 distance between the features a block's exit reads on a clean image and on its FGSM and PGD-20 points (attacks aimed at the average of " +
        "the exits' losses), one panel per run. The paper finds it growing with depth, and larger for PGD than for FGSM.",
      runs.flatMap(featureDistancePanel)),
    figure('accuracy-vs-macs', 'Early-exit accuracy against cost',
      "Accuracy of the early-exit model (each image leaves at the first exit confident enough) against the mean MACs per image it spent, one curve per " +
        "attack, one panel per evaluated run. Budgets the model cannot keep, and attacks that did not aim at the early-exit model, are left out.",
      runs.flatMap(earlyExitPanel)),
    figure('accuracy-vs-time', 'Last-exit accuracy against training time',
      'Accuracy of the last exit under each attack against the minutes the run spent training, one point per run and attack. Each run is named at its ' +
        'highest point.',
      [timePanel(runs)]),
  ];
  return figures.filter((f): f is FigureSpec => f !== null);
}

/** A figure without its empty series and panels; null when nothing is left to draw. */
function figure(id: string, title: string, caption: string, panels: FigurePanel[]): FigureSpec | null {
  const kept = panels
    .map((p) => ({ ...p, series: p.series.filter((s) => s.points.length > 0) }))
    .filter((p) => p.series.length > 0);
  return kept.length > 0 ? { id, title, caption, panels: kept } : null;
}

function perExitPanels(runs: StudyRunFigureInput[], yLabel: string, percent: boolean, value: (m: ExitEpochMetrics) => number): FigurePanel[] {
  return runs.map((run) => {
    const byExit = new Map<number, FigurePoint[]>();
    for (const epoch of run.epochs) {
      for (const m of epoch.exits) {
        const y = value(m);
        // A diverged run's NaN would break the axis range of every run's panel drawn beside it.
        if (!Number.isFinite(y)) continue;
        const points = byExit.get(m.exit) ?? [];
        points.push({ x: epoch.epoch, y });
        byExit.set(m.exit, points);
      }
    }
    const series = [...byExit].sort(([a], [b]) => a - b).map(([exit, points]) => ({ label: `exit ${exit + 1}`, color: exitColor(exit), points }));
    return { title: run.label, xLabel: 'epoch', yLabel, percent, kind: 'line' as const, series };
  });
}

function featureDistancePanel(run: StudyRunFigureInput): FigurePanel[] {
  if (!run.featureDistance) return [];
  const series = run.featureDistance.attacks.map((a) => ({
    label: a.attack === 'fgsm' ? 'FGSM' : 'PGD-20',
    color: attackColor(a.attack),
    points: a.distance.map((y, e) => ({ x: run.featureDistance!.blocks[e] ?? e + 1, y })),
  }));
  return [{ title: run.label, xLabel: 'block', yLabel: 'L2 distance of the features', percent: false, kind: 'line', series }];
}

function earlyExitPanel(run: StudyRunFigureInput): FigurePanel[] {
  if (!run.evaluation) return [];
  const series = run.evaluation.attacks.map((a) => ({
    label: a.label,
    color: attackColor(a.attack),
    points: a.earlyExit
      .filter((p) => p.feasible && p.aimed)
      .map((p) => ({ x: p.macs, y: p.accuracy }))
      .sort((p, q) => p.x - q.x),
  }));
  return [{ title: run.label, xLabel: 'mean MACs per image', yLabel: 'accuracy', percent: true, kind: 'line', series }];
}

function timePanel(runs: StudyRunFigureInput[]): FigurePanel {
  // Keyed by label, not attack: the same attack at other settings ("AutoAttack (reduced: …)") is another measurement.
  const byLabel = new Map<string, { attack: EvalAttack; series: FigureSeries }>();
  for (const run of runs) {
    const report = run.evaluation;
    if (run.trainSeconds === null || !report) continue;
    const points: FigurePoint[] = [];
    for (const a of report.attacks) {
      const last = a.perExit.length - 1;
      // Where the attack aimed at another exit, the last exit's number is an upper bound, not its accuracy.
      if (last < 0 || aimOf(a, last, report.target) === null) continue;
      const entry = byLabel.get(a.label) ?? { attack: a.attack, series: { label: a.label, color: attackColor(a.attack), points: [] } };
      byLabel.set(a.label, entry);
      const point = { x: run.trainSeconds / 60, y: a.perExit[last] };
      entry.series.points.push(point);
      points.push(point);
    }
    const top = points.reduce<FigurePoint | null>((best, p) => (best === null || p.y > best.y ? p : best), null);
    if (top) top.label = run.method;
  }
  const series = [...byLabel.values()]
    .sort((a, b) => EVAL_ATTACKS.indexOf(a.attack) - EVAL_ATTACKS.indexOf(b.attack))
    .map((e) => e.series);
  return { title: 'last exit', xLabel: 'training time (minutes)', yLabel: 'accuracy', percent: true, kind: 'scatter', series };
}
