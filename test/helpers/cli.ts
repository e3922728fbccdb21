// Runs `exitlab …` in-process on a data folder, capturing what it prints (progress written straight
// to stderr is collected apart, so `err` holds only the error lines).
import { vi } from 'vitest';
import { main } from '../../src-main/cli/main';

export interface CliResult {
  code: number;
  out: string;
  err: string;
  progress: string;
}

export async function runCli(home: string, argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (progress.push(String(chunk)), true)),
  ];
  try {
    const code = await main(argv.includes('--home') ? argv : [...argv, '--home', home]);
    return { code, out: out.join('\n'), err: err.join('\n'), progress: progress.join('') };
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
}
