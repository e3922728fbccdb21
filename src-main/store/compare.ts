// Side-by-side view of several runs: what differs in their configurations, their per-exit curves on
// a common epoch axis, their robustness per exit and attack, and what they cost.
import { aimedAccuracies, CURVE_METRICS, type CurveMetric, type RunComparison, type RunDetail } from '../../src-shared/runs';

/** Flattens an object to dotted paths; arrays are leaves (λ vectors compare as a whole). */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
}

export function configDiff(configs: unknown[]): RunComparison['configDiff'] {
  const flat = configs.map((c) => {
    const m = new Map<string, unknown>();
    flatten(c, '', m);
    return m;
  });
  const paths = [...new Set(flat.flatMap((m) => [...m.keys()]))].sort();
  return paths
    .map((p) => ({ path: p, values: flat.map((m) => (m.has(p) ? m.get(p) : null)) }))
    .filter(({ values }) => new Set(values.map((v) => JSON.stringify(v))).size > 1);
}

export function compareRuns(runs: RunDetail[]): RunComparison {
  const epochs = [...new Set(runs.flatMap((r) => r.epochs.map((e) => e.epoch)))].sort((a, b) => a - b);
  const curves = runs.map((r) => {
    const byEpoch = new Map(r.epochs.map((e) => [e.epoch, e]));
    const exitCount = Math.max(0, ...r.epochs.map((e) => e.exits.length));
    return {
      runId: r.summary.id,
      exits: Array.from({ length: exitCount }, (_, exit) => ({
        exit,
        metrics: Object.fromEntries(CURVE_METRICS.map((metric) => [
          metric,
          epochs.map((ep) => byEpoch.get(ep)?.exits.find((x) => x.exit === exit)?.[metric] ?? null),
        ])) as Record<CurveMetric, Array<number | null>>,
      })),
    };
  });

  const robustness: RunComparison['robustness'] = [];
  for (const r of runs) {
    for (const e of r.evaluations) {
      const shown = aimedAccuracies(e);
      robustness.push({
        runId: r.summary.id, attack: e.attack, eps: e.eps, steps: e.steps, samples: e.samples, source: 'evaluation',
        perExitAcc: shown.perExit, earlyExitAcc: shown.earlyExit,
      });
    }
    const last = r.epochs[r.epochs.length - 1];
    if (last) {
      // The trainer's held-out check: FGSM (α = ε) and PGD-10 at the run's ε, on evalSamples images.
      const samples = Math.min(r.config.evalSamples, r.dataset?.splits.test?.count ?? Infinity);
      const entry = (attack: string, eps: number, steps: number, acc: (x: (typeof last.exits)[number]) => number) => robustness.push({
        runId: r.summary.id, attack, eps, steps, samples: Number.isFinite(samples) ? samples : null, source: 'last-epoch',
        perExitAcc: last.exits.map(acc), earlyExitAcc: null,
      });
      entry('clean', 0, 0, (x) => x.valCleanAcc);
      entry('fgsm', r.config.eps, 1, (x) => x.valFgsmAcc);
      entry('pgd', r.config.eps, 10, (x) => x.valPgdAcc);
    }
  }

  const timing = runs.map((r) => {
    const trainSeconds = r.epochs.reduce((a, e) => a + e.seconds, 0);
    const images = r.epochs.reduce((a, e) => a + e.imagesPerSecond * e.seconds, 0);
    return {
      runId: r.summary.id,
      seconds: r.summary.seconds,
      epochs: r.summary.epochsDone,
      secondsPerEpoch: r.summary.epochsDone > 0 ? r.summary.seconds / r.summary.epochsDone : null,
      imagesPerSecond: trainSeconds > 0 ? images / trainSeconds : null,
    };
  });

  return { runs: runs.map((r) => r.summary), configDiff: configDiff(runs.map((r) => r.config)), epochs, curves, robustness, timing };
}
