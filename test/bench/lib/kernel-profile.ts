// Where a step's time goes: tf.profile of one call, summed per kernel name.
import * as tf from '@tensorflow/tfjs';

export interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
  /** Share of the summed kernel time. */
  share: number;
}

export interface KernelProfile {
  /** Wall time of the profiled call (includes JS overhead between kernels). */
  wallMs: number;
  kernelMs: number;
  peakBytes: number;
  rows: KernelRow[];
}

export async function profileKernels(fn: () => Promise<unknown>): Promise<KernelProfile> {
  const t0 = performance.now();
  let done: Promise<unknown> = Promise.resolve();
  const info = await tf.profile(() => {
    done = fn();
  });
  await done;
  const wallMs = performance.now() - t0;
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of info.kernels) {
    // `…__op` and unnamed entries are custom-gradient scopes whose time already counts the kernels inside.
    if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
    const row = byName.get(k.name) ?? { calls: 0, ms: 0 };
    row.calls += 1;
    row.ms += Number(k.kernelTimeMs);
    byName.set(k.name, row);
  }
  const kernelMs = [...byName.values()].reduce((a, r) => a + r.ms, 0);
  const rows = [...byName.entries()]
    .map(([kernel, r]) => ({ kernel, calls: r.calls, ms: r.ms, share: r.ms / kernelMs }))
    .sort((a, b) => b.ms - a.ms);
  return { wallMs, kernelMs, peakBytes: info.peakBytes, rows };
}

export function formatProfile(p: KernelProfile, top = 20): string {
  const lines = [`wall ${p.wallMs.toFixed(0)} ms, kernels ${p.kernelMs.toFixed(0)} ms, peak tensor memory ${(p.peakBytes / 2 ** 20).toFixed(0)} MiB`];
  lines.push('kernel                          calls        ms   share');
  for (const r of p.rows.slice(0, top)) {
    lines.push(`${r.kernel.padEnd(30)} ${String(r.calls).padStart(6)} ${r.ms.toFixed(1).padStart(9)} ${(100 * r.share).toFixed(1).padStart(6)}%`);
  }
  return lines.join('\n');
}
