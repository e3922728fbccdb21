// The fgsm-me step at N = 1 … cores workers, beside N independent one-thread processes (the
// machine's ceiling) and PyTorch at the same thread counts.
import type { BackendSchema, Method } from '../../../src-shared/config';
import type { z } from 'zod';
import { startParallelStepRig } from '../../../src-main/engine/parallel/step-rig';
import { makeStepRig } from './training-step';
import { runPytorchPeer, type PeerResult } from './pytorch-peer';
import { timeSteps } from './timing';
import { independentSteps } from './independent-steps';

export interface ScalingRow {
  workers: number;
  imagesPerSecond: number | null;
  /** images/s at N over N × images/s at N = 1. */
  efficiency: number | null;
  /** Why there is no figure (N replicas did not start, e.g. not enough memory). */
  unavailable?: string;
  /** N independent one-thread processes stepping at once, summed: what N cores give here with nothing shared. */
  independentImagesPerSecond: number | null;
  /** That over N × images/s at N = 1: the machine's own efficiency, the most the engine can reach. */
  ceiling: number | null;
  pytorchImagesPerSecond: number | null;
  /** ExitLab / PyTorch at the same number of threads. */
  ratioToPytorch: number | null;
}

export interface ScalingReport {
  method: Method;
  batchSize: number;
  rows: ScalingRow[];
  pytorch: PeerResult;
}

/** What the table times: one step on a fixed minibatch, and the images it trains on. */
interface Rig {
  imagesPerStep: number;
  step(): Promise<unknown>;
  dispose(): void | Promise<void>;
}

/**
 * N = 1 is the one-thread engine in this thread, as a run with one worker trains; N > 1 is the
 * data-parallel engine (engine/parallel), N worker threads each with a replica, sharing one
 * minibatch exactly as the trainer shards it.
 */
async function rigFor(method: Method, batch: number, workers: number, backend: z.infer<typeof BackendSchema>): Promise<Rig> {
  if (workers === 1) return makeStepRig(method, batch);
  return startParallelStepRig({ method, batchSize: batch, backend }, workers);
}

export async function benchScaling(
  opts: {
    method: Method; batch: number; steps: number; maxWorkers: number; pytorch: boolean; python: string; expectMacs: number;
    backend: z.infer<typeof BackendSchema>;
  },
  log: (s: string) => void,
): Promise<ScalingReport> {
  const counts = Array.from({ length: opts.maxWorkers }, (_, i) => i + 1);
  const measured: Array<{ workers: number; imagesPerSecond: number | null; unavailable?: string }> = [];
  for (const workers of counts) {
    let rig: Rig;
    try {
      rig = await rigFor(opts.method, opts.batch, workers, opts.backend);
    } catch (err) {
      // Not enough memory for N replicas, say: that row has no figure, the bench goes on.
      const reason = err instanceof Error ? err.message : String(err);
      log(`scaling ${opts.method} N=${workers}: ${reason}`);
      measured.push({ workers, imagesPerSecond: null, unavailable: reason });
      continue;
    }
    try {
      const { msPerStep } = await timeSteps(() => rig.step(), opts.steps);
      const imagesPerSecond = (rig.imagesPerStep * 1000) / msPerStep;
      log(`scaling ${opts.method} N=${workers}: ${imagesPerSecond.toFixed(1)} img/s`);
      measured.push({ workers, imagesPerSecond });
    } finally {
      await rig.dispose();
    }
  }
  const independent = new Map<number, number>();
  for (const workers of counts.slice(1)) {
    try {
      const imagesPerSecond = await independentSteps({ method: opts.method, batch: opts.batch, steps: opts.steps, processes: workers, backend: opts.backend });
      log(`scaling ${opts.method}: ${workers} independent one-thread processes at once: ${imagesPerSecond.toFixed(1)} img/s in all`);
      independent.set(workers, imagesPerSecond);
    } catch (err) {
      log(`scaling ${opts.method}: ${workers} independent processes: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let pytorch: PeerResult = { available: false, reason: 'not requested (--no-pytorch)' };
  if (opts.pytorch) {
    log(`PyTorch peer at ${counts.join(', ')} thread(s)…`);
    pytorch = await runPytorchPeer({ threads: counts, steps: opts.steps, batch: opts.batch, expectMacs: opts.expectMacs, python: opts.python });
    if (!pytorch.available) log(`PyTorch peer skipped: ${pytorch.reason}`);
    else log(`PyTorch ${pytorch.torch}: ${pytorch.macsPerImage.toLocaleString('en')} MACs per image, ` +
      `${pytorch.macsMatch ? 'equal to' : 'DIFFERENT FROM'} ExitLab's ${opts.expectMacs.toLocaleString('en')}`);
  }
  const base = measured[0]?.imagesPerSecond ?? null;
  const rows = measured.map(({ workers, imagesPerSecond, unavailable }): ScalingRow => {
    const peer = pytorch.available ? pytorch.results.find((r) => r.threads === workers)?.imagesPerSecond ?? null : null;
    const alone = independent.get(workers) ?? null;
    return {
      workers,
      imagesPerSecond,
      efficiency: imagesPerSecond !== null && base !== null ? imagesPerSecond / (workers * base) : null,
      ...(unavailable ? { unavailable } : {}),
      independentImagesPerSecond: alone,
      ceiling: alone !== null && base !== null ? alone / (workers * base) : null,
      pytorchImagesPerSecond: peer,
      ratioToPytorch: imagesPerSecond !== null && peer !== null ? imagesPerSecond / peer : null,
    };
  });
  return { method: opts.method, batchSize: opts.batch, rows, pytorch };
}

const cell = (v: number | null, digits: number, suffix = '') => (v === null ? '—' : v.toFixed(digits) + suffix);

export function formatScaling(r: ScalingReport): string {
  const lines = [
    `${r.method} at batch ${r.batchSize}: workers (ExitLab) = threads (PyTorch); ceiling: N independent one-thread processes at once`,
    'N   ExitLab img/s   efficiency   ceiling   PyTorch img/s   ExitLab/PyTorch',
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.workers).padEnd(3)} ${(row.unavailable ? 'not run' : cell(row.imagesPerSecond, 1)).padStart(13)}   ` +
        `${cell(row.efficiency === null ? null : 100 * row.efficiency, 0, '%').padStart(10)}   ` +
        `${cell(row.ceiling === null ? null : 100 * row.ceiling, 0, '%').padStart(7)}   ${cell(row.pytorchImagesPerSecond, 1).padStart(13)}   ` +
          `${cell(row.ratioToPytorch, 2, '×').padStart(15)}`,
    );
  }
  return lines.join('\n');
}
