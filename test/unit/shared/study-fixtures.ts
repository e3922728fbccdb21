// Small study runs whose numbers encode (run, epoch, exit), so a value in the wrong series shows.
import { EvaluationReportSchema, type EvaluationReport } from '../../../src-shared/evaluation';
import type { EpochMetrics } from '../../../src-shared/metrics';
import type { StudyRunFigureInput } from '../../../src-shared/study-figures';

/** valPgdAcc = 0.1·run + 0.01·epoch + 0.001·exit; fcWeightNorm = run + epoch + exit/10 (exit 0-based). */
export function epochs(run: number, count: number, exits: number): EpochMetrics[] {
  return Array.from({ length: count }, (_, i) => ({
    epoch: i + 1,
    lr: 0.1,
    seconds: 60,
    imagesPerSecond: 100,
    exits: Array.from({ length: exits }, (_, exit) => ({
      exit,
      trainCleanAcc: 0.5, trainCleanLoss: 1, trainAdvAcc: 0.3, trainAdvLoss: 1.5,
      fcWeightNorm: run + (i + 1) + exit / 10,
      lambda: 0.1,
      valCleanAcc: 0.6, valFgsmAcc: 0.4,
      valPgdAcc: 0.1 * run + 0.01 * (i + 1) + 0.001 * exit,
    })),
    catastrophicOverfitting: { detected: false, exits: [], reason: '' },
  }));
}

type EarlyPoint = { fraction: number; macs: number; accuracy: number; feasible?: boolean; aimed?: boolean };

export function attack(attack: string, label: string, perExit: number[], early: EarlyPoint[], aimedAt: (string | null)[] = []) {
  return {
    attack, label, eps: attack === 'clean' ? 0 : 8, steps: attack === 'clean' ? 0 : 20, restarts: 1, samples: 100, settings: {},
    perExit, aimedAt,
    earlyExit: early.map((p) => ({ budgetMacs: p.macs, threshold: 0.9, exitShare: [1], ...p })),
    gains: null, seconds: 1,
  };
}

export function report(runId: string, attacks: ReturnType<typeof attack>[], target = 'max-average'): EvaluationReport {
  return EvaluationReportSchema.parse({
    formatVersion: 1, runId, method: 'fgsm-me', dataset: 'synthetic', checkpoint: 'last', epoch: 3, createdAt: '2026-12-01T00:00:00.000Z',
    backend: 'wasm', samples: 100, calibrationSamples: 50, eps: 8, norm: 'linf', target, seed: 0,
    exits: [{ exit: 1, macs: 1e6 }, { exit: 2, macs: 2e6 }, { exit: 3, macs: 3e6 }], costModel: 'msdnet', budgets: [],
    attacks, sweep: null, warnings: [], seconds: 10,
  });
}

/** Two runs of 3 epochs and 3 exits, both evaluated; the second's report has dropped early-exit points. */
export function twoRuns(): StudyRunFigureInput[] {
  return [
    {
      label: 'fgsm-me · λ paper · seed 0', method: 'fgsm-me', epochs: epochs(0, 3, 3), trainSeconds: 600,
      evaluation: report('a', [
        attack('clean', 'clean', [0.5, 0.6, 0.7], [{ fraction: 0.5, macs: 1.5e6, accuracy: 0.65 }, { fraction: 0.25, macs: 1e6, accuracy: 0.5 }]),
        attack('pgd20', 'PGD-20', [0.2, 0.3, 0.4], [{ fraction: 0.25, macs: 1e6, accuracy: 0.2 }, { fraction: 0.5, macs: 1.4e6, accuracy: 0.35 }]),
      ]),
      featureDistance: {
        formatVersion: 1, runId: 'a', checkpoint: 'last', epoch: 3, samples: 64, eps: 8, seed: 0, blocks: [1, 2, 3], createdAt: '2026-12-03T10:00:00.000Z',
        attacks: [{ attack: 'fgsm', distance: [1, 2, 3], cleanNorm: [10, 10, 10] }, { attack: 'pgd20', distance: [1.5, 3, 4.5], cleanNorm: [10, 10, 10] }],
      },
    },
    {
      label: 'pgd-at · seed 0', method: 'pgd-at', epochs: epochs(1, 3, 3), trainSeconds: 1800,
      evaluation: report('b', [
        attack('clean', 'clean', [0.55, 0.65, 0.75], [
          { fraction: 0.1, macs: 1e6, accuracy: 0.4, feasible: false }, { fraction: 0.5, macs: 1.5e6, accuracy: 0.7 },
        ]),
        attack('pgd20', 'PGD-20', [0.25, 0.35, 0.45], [{ fraction: 0.5, macs: 1.5e6, accuracy: 0.3, aimed: false }]),
      ], 'exit:1'),
      featureDistance: null,
    },
  ];
}
