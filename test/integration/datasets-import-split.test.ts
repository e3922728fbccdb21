// `exitlab datasets import` of a single CIFAR-10-layout .bin: --help says where its test split comes
// from, and the import says which it did (the sibling *test* file, or the held-out last 10%).
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-split-'));
const src = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-split-src-'));
afterAll(() => [home, src].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** n records: a label byte, then 3072 pixel bytes. */
function bin(file: string, n: number): string {
  const buf = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) buf[i * 3073] = i % 10;
  fs.writeFileSync(file, buf);
  return file;
}

describe('datasets import of a single .bin', () => {
  it('--help explains the sibling test file and the 10% hold-out', async () => {
    const help = await runCli(home, ['datasets', '--help']);
    expect(help.out).toMatch(/'test' for 'train'/);
    expect(help.out).toMatch(/last\s+10% of its records are held out/);
  });

  it('says it held out the last records when there is no sibling, and names the sibling when there is', async () => {
    const alone = await runCli(home, ['datasets', 'import', bin(path.join(src, 'mine.bin'), 20), '--name', 'alone']);
    expect(alone.code).toBe(0);
    expect(alone.out).toMatch(/18 train, 2 test images; no sibling \*test\* file, so the test split is the last 2 records held out \(10%\)/);
    bin(path.join(src, 'set-test.bin'), 4);
    const paired = await runCli(home, ['datasets', 'import', bin(path.join(src, 'set-train.bin'), 12), '--name', 'paired']);
    expect(paired.code).toBe(0);
    expect(paired.out).toMatch(/12 train, 4 test images; test split from the sibling file .*set-test\.bin/);
  });
});
