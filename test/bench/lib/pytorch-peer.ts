// The same fgsm-me step in PyTorch on the CPU (test/bench/msdnet_reference.py), run by Debian's
// python3-torch. Missing torch is an expected state of a machine, not a bench failure.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './paths';

/** Debian's interpreter: the python3 first on PATH may be another one, without torch. */
export const PEER_PYTHON = '/usr/bin/python3';

export interface PeerRow {
  threads: number;
  msPerStep: number;
  stepMs: number[];
  imagesPerSecond: number;
}

export type PeerResult =
  | { available: true; torch: string; macsPerImage: number; macsMatch: boolean; batchSize: number; results: PeerRow[] }
  | { available: false; reason: string };

function run(python: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(python, args, { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Times the step at each thread count; `expectMacs` is ExitLab's count for the same network. */
export async function runPytorchPeer(
  opts: { threads: number[]; steps: number; batch: number; expectMacs: number; timeoutMs?: number; python?: string },
): Promise<PeerResult> {
  const python = opts.python ?? PEER_PYTHON;
  if (!fs.existsSync(python)) return { available: false, reason: `${python} not found` };
  const probe = await run(python, ['-c', 'import torch'], 60_000);
  if (probe.code !== 0) return { available: false, reason: `${python} has no torch (apt-get install python3-torch)` };
  const script = path.join(repoRoot(), 'test', 'bench', 'msdnet_reference.py');
  const args = [script, '--threads', opts.threads.join(','), '--steps', String(opts.steps), '--batch', String(opts.batch)];
  const r = await run(python, args, opts.timeoutMs ?? 30 * 60_000);
  if (r.code !== 0) return { available: false, reason: `reference script failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const out = JSON.parse(r.stdout) as { torch: string; macsPerImage: number; batchSize: number; results: PeerRow[] };
  return {
    available: true, torch: out.torch, macsPerImage: out.macsPerImage, macsMatch: out.macsPerImage === opts.expectMacs, batchSize: out.batchSize,
    results: out.results,
  };
}
