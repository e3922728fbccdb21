// The fgsm-me step at N = 1 … cores workers, beside PyTorch at the same thread counts.
import { makeStepRig, type StepRig } from './training-step';
import { runPytorchPeer, type PeerResult } from './pytorch-peer';
import { timeSteps } from './timing';

export interface ScalingRow {
  workers: number;
  imagesPerSecond: number | null;
  /** images/s at N over N × images/s at N = 1. */
  efficiency: number | null;
  /** Why there is no figure (the engine cannot run N workers). */
  unavailable?: string;
  pytorchImagesPerSecond: number | null;
  /** ExitLab / PyTorch at the same number of threads. */
  ratioToPytorch: number | null;
}

export interface ScalingReport {
  method: string;
  batchSize: number;
  rows: ScalingRow[];
  pytorch: PeerResult;
}

const UNAVAILABLE = 'data-parallel engine not available';

/**
 * The rig for N workers. N = 1 is the one-thread engine of today.
 *
 * WIRE-UP (issue 10, item 1): N > 1 is the single place the data-parallel engine of
 * src-main/engine/parallel/ plugs in: a StepRig whose step() runs one fgsm-me minibatch of
 * `batch` images split over `workers` worker threads. Until it lands, N > 1 reports UNAVAILABLE.
 */
async function rigFor(method: string, batch: number, workers: number): Promise<StepRig | null> {
  if (workers === 1) return makeStepRig(method, batch);
  return null;
}

export async function benchScaling(opts: { method: string; batch: number; steps: number; maxWorkers: number; pytorch: boolean; expectMacs: number }, log: (s: string) => void): Promise<ScalingReport> {
  const counts = Array.from({ length: opts.maxWorkers }, (_, i) => i + 1);
  const measured: Array<{ workers: number; imagesPerSecond: number | null }> = [];
  for (const workers of counts) {
    const rig = await rigFor(opts.method, opts.batch, workers);
    if (!rig) {
      log(`scaling ${opts.method} N=${workers}: ${UNAVAILABLE}`);
      measured.push({ workers, imagesPerSecond: null });
      continue;
    }
    try {
      const { msPerStep } = await timeSteps(() => rig.step(), opts.steps);
      const imagesPerSecond = (rig.imagesPerStep * 1000) / msPerStep;
      log(`scaling ${opts.method} N=${workers}: ${imagesPerSecond.toFixed(1)} img/s`);
      measured.push({ workers, imagesPerSecond });
    } finally {
      rig.dispose();
    }
  }
  let pytorch: PeerResult = { available: false, reason: 'not requested (--no-pytorch)' };
  if (opts.pytorch) {
    log(`PyTorch peer at ${counts.join(', ')} thread(s)…`);
    pytorch = await runPytorchPeer({ threads: counts, steps: opts.steps, batch: opts.batch, expectMacs: opts.expectMacs });
    if (!pytorch.available) log(`PyTorch peer skipped: ${pytorch.reason}`);
    else log(`PyTorch ${pytorch.torch}: ${pytorch.macsPerImage.toLocaleString('en')} MACs per image, ${pytorch.macsMatch ? 'equal to' : 'DIFFERENT FROM'} ExitLab's ${opts.expectMacs.toLocaleString('en')}`);
  }
  const base = measured[0]?.imagesPerSecond ?? null;
  const rows = measured.map(({ workers, imagesPerSecond }): ScalingRow => {
    const peer = pytorch.available ? pytorch.results.find((r) => r.threads === workers)?.imagesPerSecond ?? null : null;
    return {
      workers,
      imagesPerSecond,
      efficiency: imagesPerSecond !== null && base !== null ? imagesPerSecond / (workers * base) : null,
      ...(imagesPerSecond === null ? { unavailable: UNAVAILABLE } : {}),
      pytorchImagesPerSecond: peer,
      ratioToPytorch: imagesPerSecond !== null && peer !== null ? imagesPerSecond / peer : null,
    };
  });
  return { method: opts.method, batchSize: opts.batch, rows, pytorch };
}

const cell = (v: number | null, digits: number, suffix = '') => (v === null ? '—' : v.toFixed(digits) + suffix);

export function formatScaling(r: ScalingReport): string {
  const lines = [`${r.method} at batch ${r.batchSize}: workers (ExitLab) = threads (PyTorch)`, 'N   ExitLab img/s   efficiency   PyTorch img/s   ExitLab/PyTorch'];
  for (const row of r.rows) {
    lines.push(`${String(row.workers).padEnd(3)} ${(row.unavailable ?? cell(row.imagesPerSecond, 1)).padStart(13)}   ${cell(row.efficiency === null ? null : 100 * row.efficiency, 0, '%').padStart(10)}   ${cell(row.pytorchImagesPerSecond, 1).padStart(13)}   ${cell(row.ratioToPytorch, 2, '×').padStart(15)}`);
  }
  return lines.join('\n');
}
