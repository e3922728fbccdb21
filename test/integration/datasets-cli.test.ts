// `exitlab datasets …` end to end through the CLI entry (in-process), on fixture files.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/main';
import { snapshot, tarGz, writeCifar10Folder } from '../unit/datasets/fixtures';

let home: string;
let work: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-cli-home-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-cli-src-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.EXITLAB_DOWNLOAD_MIRROR;
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  const code = await main(['datasets', ...argv, '--home', home]);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('') };
}

describe('exitlab datasets', () => {
  it('imports, lists and removes, with --json output', async () => {
    const fx = writeCifar10Folder(work);
    const archive = await tarGz(fx.dir, path.join(work, 'cifar-10-binary.tar.gz'));
    const imported = await cli('import', archive, '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.out)).toMatchObject({ id: 'cifar10', splits: { train: { count: 15 }, test: { count: 2 } } });

    const human = await cli('import', fx.dir, '--name', 'Second copy');
    expect(human.code).toBe(1);
    expect(human.err).toMatch(/exitlab datasets: error: .*already imported as 'cifar10'/);

    const listed = await cli('list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out).datasets.map((m: { id: string }) => m.id)).toEqual(['cifar10', 'synthetic']);
    const table = await cli('list');
    expect(table.out.split('\n')[0]).toMatch(/^id\s+name\s+source\s+classes\s+train\s+test\s+imported$/);
    expect(table.out).toMatch(/cifar10\s+CIFAR-10\s+cifar10\s+10\s+15\s+2/);

    expect((await cli('remove', 'cifar10')).code).toBe(0);
    const removedAgain = await cli('remove', 'cifar10');
    expect(removedAgain.code).toBe(1);
    expect(removedAgain.err).toMatch(/unknown data set 'cifar10' \(stored: synthetic\)/);
  });

  it('rejects bad usage with exit code 2 before doing anything', async () => {
    const before = snapshot(home);
    expect((await cli('import')).code).toBe(2);
    const labels = await cli('import', work, '--labels', 'medium');
    expect(labels.code).toBe(2);
    expect(labels.err).toContain("--labels must be fine or coarse, got 'medium'");
    expect((await cli('download', 'mnist')).err).toContain('download needs one of cifar10, cifar100, svhn');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('list', '--bogus')).code).toBe(2);
    expect(snapshot(home)).toEqual(before);
  });

  it('download verifies the published checksum (a local mirror serving other bytes is refused)', async () => {
    const fx = writeCifar10Folder(work);
    const body = fs.readFileSync(await tarGz(fx.dir, path.join(work, 'cifar-10-binary.tar.gz')));
    const server = http.createServer((req, res) => {
      if (req.url === '/cifar-10-binary.tar.gz') res.writeHead(200, { 'Content-Length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      process.env.EXITLAB_DOWNLOAD_MIRROR = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await cli('download', 'cifar10');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/cifar-10-binary\.tar\.gz: checksum mismatch .*expected c32a1d4ab5d03f1284b67883e8d87530, 170052171 bytes/);
      expect(fs.existsSync(path.join(home, 'datasets', 'cifar10'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
