import { describe, expect, it } from 'vitest';
import { compareRuns, configDiff } from '../../../src-main/store/compare';
import { openStore } from '../../../src-main/store/run-store';
import { RunComparisonSchema } from '../../../src-shared/runs';
import { config, epochMetrics, manifest, tempHome } from './fixtures';

describe('run comparison', () => {
  it('lists only the configuration fields that differ, by dotted path', () => {
    const diff = configDiff([
      config({ method: 'fgsm-me', lambda: [0.1, 0.1, 0.15] }),
      config({ method: 'standard', model: { blocks: 3, step: 1, base: 1, channels: 8, growthRate: 2, scales: 2 } }),
    ]);
    expect(diff).toEqual([
      { path: 'lambda', values: [[0.1, 0.1, 0.15], null] },
      { path: 'method', values: ['fgsm-me', 'standard'] },
      { path: 'model.channels', values: [4, 8] },
    ]);
    expect(configDiff([config(), config()])).toEqual([]);
  });

  it('aligns per-exit curves on the union of epochs and gathers robustness and timing', () => {
    const store = openStore(tempHome());
    try {
      store.upsertDataset(manifest());
      store.createRun({ id: 'a', config: config({ eps: 8 }), codeVersion: 'v' });
      store.createRun({ id: 'b', config: config({ eps: 4, method: 'standard' }), codeVersion: 'v' });
      for (const e of [1, 2, 3]) store.recordEpoch('a', epochMetrics(e));
      store.recordEpoch('b', epochMetrics(1, 2));
      store.finishRun('a', { status: 'completed', seconds: 60, epochsDone: 3 });
      store.addEvaluation('b', {
        attack: 'pgd', eps: 4, steps: 20, samples: 50, perExitAcc: [0.3, 0.4],
        earlyExit: { thresholds: [0.9, 0], accuracy: 0.38, averageMacs: null, exitShare: null },
      });

      const cmp = RunComparisonSchema.parse(compareRuns(store.getRuns(['a', 'b'])));
      expect(cmp.runs.map((r) => r.id)).toEqual(['a', 'b']);
      expect(cmp.epochs).toEqual([1, 2, 3]);
      expect(cmp.configDiff.map((d) => d.path)).toEqual(['eps', 'method']);
      expect(cmp.curves[0].exits).toHaveLength(3);
      expect(cmp.curves[1].exits).toHaveLength(2);
      expect(cmp.curves[0].exits[2].metrics.valPgdAcc).toEqual([1, 2, 3].map((e) => epochMetrics(e).exits[2].valPgdAcc));
      expect(cmp.curves[1].exits[1].metrics.valCleanAcc).toEqual([epochMetrics(1, 2).exits[1].valCleanAcc, null, null]);

      const rob = (runId: string, attack: string) => cmp.robustness.filter((r) => r.runId === runId && r.attack === attack);
      expect(rob('a', 'pgd')).toEqual([
        {
          runId: 'a', attack: 'pgd', eps: 8, steps: 10, samples: 20, source: 'last-epoch', perExitAcc: epochMetrics(3).exits.map((x) => x.valPgdAcc),
          earlyExitAcc: null,
        },
      ]);
      expect(rob('b', 'pgd').map((r) => [r.source, r.steps, r.earlyExitAcc])).toEqual([['evaluation', 20, 0.38], ['last-epoch', 10, null]]);

      const timeA = cmp.timing.find((t) => t.runId === 'a')!;
      expect(timeA).toMatchObject({ seconds: 60, epochs: 3, secondsPerEpoch: 20 });
      expect(timeA.imagesPerSecond).toBeCloseTo(100);
    } finally {
      store.close();
    }
  });
});
