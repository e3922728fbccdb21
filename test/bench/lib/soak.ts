// `npm run bench -- --soak MINUTES`: the engine's own training loop (runTraining: batches, the
// per-epoch held-out probes, checkpoints) on a tiny MSDNet for two thirds of the time, then
// evaluation (PGD-20 and AutoAttack) in a loop for the rest, sampling tf.memory() and the process
// RSS as it goes. After a warm-up the tensor count must not grow at all and the bytes and RSS must
// stay flat: a leak of one tensor per step shows as a slope here long before a user's run dies.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { TrainConfigSchema } from '../../../src-shared/config';
import type { BackendReport } from '../../../src-shared/engine-messages';
import { openDataset } from '../../../src-main/datasets/catalog';
import { DEFAULT_SETTINGS } from '../../../src-main/engine/eval/attack-specs';
import { evaluateRobustness } from '../../../src-main/engine/eval/robustness';
import { buildNet, runTraining } from '../../../src-main/engine/train/trainer';
import { RunControl } from '../../../src-main/engine/train/run-control';

export interface SoakSample { phase: 'train' | 'eval'; minutes: number; tensors: number; tensorBytes: number; rssBytes: number }

export interface SoakSlope { tensorsPerMinute: number; tensorMiBPerMinute: number; rssMiBPerMinute: number }

export interface SoakReport {
  minutes: number;
  samples: SoakSample[];
  /** Theil–Sen slopes over each phase's samples after its first fifth (the warm-up). */
  slopes: Record<SoakSample['phase'], SoakSlope | null>;
  flat: boolean;
}

const TINY = {
  dataset: 'synthetic',
  model: { blocks: 2, step: 1, base: 1, channels: 8, growthRate: 4, scales: 2, classifierChannels: 16 },
  batchSize: 32,
  evalSamples: 32,
  maxBatchesPerEpoch: 8,
  epochs: 10_000,
  seed: 1,
};

/**
 * A full garbage collection before each sample: without it RSS swings by 150 MiB with the timing
 * of V8's collections (AutoAttack's batches are large), which hides or fakes a trend.
 */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function sample(phase: SoakSample['phase'], t0: number): SoakSample {
  collectGarbage();
  const m = tf.memory();
  return { phase, minutes: (performance.now() - t0) / 60_000, tensors: m.numTensors, tensorBytes: m.numBytes, rssBytes: process.memoryUsage().rss };
}

/**
 * Theil–Sen: the median of the slopes between every pair of samples. One RSS spike (a collection
 * that had not returned its pages yet) tilts a least-squares line; it does not move this median.
 */
function slope(xs: number[], ys: number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) if (xs[j] !== xs[i]) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
  }
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length === 0 ? 0 : slopes.length % 2 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
}

function phaseSlope(samples: SoakSample[]): SoakSlope | null {
  const kept = samples.slice(Math.floor(samples.length / 5));
  if (kept.length < 3) return null;
  const t = kept.map((s) => s.minutes);
  return {
    tensorsPerMinute: slope(t, kept.map((s) => s.tensors)),
    tensorMiBPerMinute: slope(t, kept.map((s) => s.tensorBytes / 2 ** 20)),
    rssMiBPerMinute: slope(t, kept.map((s) => s.rssBytes / 2 ** 20)),
  };
}

export async function runSoak(minutes: number, backend: BackendReport, log: (s: string) => void): Promise<SoakReport> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-soak-'));
  const t0 = performance.now();
  const samples: SoakSample[] = [];
  const every = Math.max(5_000, minutes * 60_000 / 200);
  let lastSample = -Infinity;
  const take = (phase: SoakSample['phase']) => {
    if (performance.now() - lastSample < every) return;
    lastSample = performance.now();
    const s = sample(phase, t0);
    samples.push(s);
    log(`soak ${phase} ${s.minutes.toFixed(1)} min: ${s.tensors} tensors, ${(s.tensorBytes / 2 ** 20).toFixed(1)} MiB in tensors, RSS ` +
      `${(s.rssBytes / 2 ** 20).toFixed(0)} MiB`);
  };
  try {
    const config = TrainConfigSchema.parse({ ...TINY, backend: backend.backend });
    const data = openDataset(home, 'synthetic');
    const control = new RunControl();
    const trainUntil = t0 + (minutes * 60_000 * 2) / 3;
    await runTraining({
      runId: 'soak', config, runDir: path.join(home, 'runs', 'soak'), resume: false, data, control, backend,
      emit: (event) => {
        if (event.type === 'failed') throw new Error(`soak training failed: ${event.message}`);
        if (event.type === 'progress' || event.type === 'checkpoint') take('train');
        if (performance.now() > trainUntil) control.stop();
      },
    });

    const net = buildNet(config, data.manifest);
    try {
      const n = 16;
      const images = {
        x: Float32Array.from(data.test.images.subarray(0, n * 3072), (v) => v / 255), y: Int32Array.from(data.test.labels.subarray(0, n)), count: n,
        shape: [32, 32, 3] as [number, number, number],
      };
      const settings = { ...DEFAULT_SETTINGS, aa: { ...DEFAULT_SETTINGS.aa, steps: 10, squareQueries: 100 } };
      const evalUntil = t0 + minutes * 60_000;
      lastSample = -Infinity;
      while (performance.now() < evalUntil) {
        await evaluateRobustness(net, images, { ...images, count: 0 }, {
          eps: 8 / 255, attacks: ['pgd20', 'aa'], target: { kind: 'average' }, settings, budgets: [], costs: net.summary.perExit.map((e) => e.macs),
          batchSize: n, seed: 1,
        });
        take('eval');
      }
    } finally {
      net.dispose();
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const slopes = { train: phaseSlope(samples.filter((s) => s.phase === 'train')), eval: phaseSlope(samples.filter((s) => s.phase === 'eval')) };
  // Flat: not one tensor more per minute, and under 1 MiB/min of RSS (the allocator's noise).
  const flat = Object.values(slopes).every((s) => s !== null && Math.abs(s.tensorsPerMinute) < 0.5 && s.rssMiBPerMinute < 1);
  for (const [phase, s] of Object.entries(slopes)) {
    log(s ? `soak ${phase} slope after warm-up: ${s.tensorsPerMinute.toFixed(2)} tensors/min, ${s.tensorMiBPerMinute.toFixed(3)} MiB/min in tensors, RSS ` +
      `${s.rssMiBPerMinute.toFixed(2)} MiB/min`
      : `soak ${phase}: too few samples for a slope (run longer)`);
  }
  log(`soak: memory ${flat ? 'flat' : 'NOT flat'} over ${minutes} min`);
  return { minutes, samples, slopes, flat };
}
