// Downloads against a local HTTP server on 127.0.0.1 serving fixture files (never an outside host).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDataset } from '../../../src-main/datasets/catalog';
import { downloadDataset, downloadDir, type DownloadProgress, type RemoteFile } from '../../../src-main/datasets/download';
import { snapshot, svhnVars, tarGz, writeCifar10Folder, writeMat } from './fixtures';

let server: http.Server;
let base: string;
let files: Map<string, Buffer>;
let requests: Array<{ url: string; range: string | undefined }>;
let cutOnce: Set<string>;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const [, mode, name] = (req.url ?? '').split('/');
    requests.push({ url: req.url ?? '', range: req.headers.range });
    let body = files.get(name);
    if (!body || mode === 'missing') {
      res.writeHead(404).end('not found');
      return;
    }
    if (mode === 'corrupt') {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && mode !== 'norange') {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length });
    if (mode === 'cut' && !cutOnce.has(name)) {
      // Promise the whole file, send half, hang up.
      cutOnce.add(name);
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let home: string;
let work: string;
let archive: Buffer;
let remote: RemoteFile;
beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-dl-home-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-dl-src-'));
  const fx = writeCifar10Folder(work);
  archive = fs.readFileSync(await tarGz(fx.dir, path.join(work, 'cifar-10-binary.tar.gz')));
  files = new Map([['cifar-10-binary.tar.gz', archive]]);
  requests = [];
  cutOnce = new Set();
  remote = { name: 'cifar-10-binary.tar.gz', url: 'unused', md5: crypto.createHash('md5').update(archive).digest('hex'), bytes: archive.length };
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const cifar10 = (mode: string, extra: object = {}) => downloadDataset(home, 'cifar10', { mirror: `${base}/${mode}`, files: { files: [remote] }, ...extra });
const part = () => path.join(downloadDir(home, 'cifar10'), 'cifar-10-binary.tar.gz.part');

describe('downloadDataset', () => {
  it('fetches, verifies, reports progress and imports; a second time it reuses the verified file', async () => {
    const progress: DownloadProgress[] = [];
    const m = await cifar10('ok', { onDownload: (p: DownloadProgress) => progress.push(p) });
    expect(m.id).toBe('cifar10');
    expect(openDataset(home, 'cifar10').train.count).toBe(15);
    expect(progress.at(-1)).toMatchObject({ received: archive.length, total: archive.length, resumedFrom: 0 });
    expect(fs.existsSync(part())).toBe(false);
    fs.rmSync(path.join(home, 'datasets', 'cifar10'), { recursive: true });
    requests = [];
    await cifar10('ok');
    expect(requests).toEqual([]);
  });

  it('deletes a download whose checksum does not match and imports nothing', async () => {
    const before = snapshot(path.join(home, 'datasets'));
    await expect(cifar10('corrupt')).rejects.toThrow(/cifar-10-binary\.tar\.gz: checksum mismatch \(MD5 [0-9a-f]{32}, \d+ bytes; expected [0-9a-f]{32}/);
    expect(fs.existsSync(part())).toBe(false);
    expect(fs.existsSync(path.join(downloadDir(home, 'cifar10'), 'cifar-10-binary.tar.gz'))).toBe(false);
    expect(snapshot(path.join(home, 'datasets'))).toEqual(before);
  });

  it('keeps a truncated transfer and resumes it with a Range request', async () => {
    await expect(cifar10('cut')).rejects.toThrow(new RegExp(`stopped at ${archive.length >> 1} of ${archive.length} bytes .*run the command again to resume`));
    expect(fs.statSync(part()).size).toBe(archive.length >> 1);
    expect(fs.existsSync(path.join(home, 'datasets', 'cifar10'))).toBe(false);
    const progress: DownloadProgress[] = [];
    await cifar10('cut', { onDownload: (p: DownloadProgress) => progress.push(p) });
    expect(requests.at(-1)?.range).toBe(`bytes=${archive.length >> 1}-`);
    expect(progress.at(-1)).toMatchObject({ resumedFrom: archive.length >> 1, received: archive.length });
    expect(openDataset(home, 'cifar10').test.count).toBe(2);
  });

  it('starts over when the server ignores Range, and finishes a complete .part on 416', async () => {
    fs.mkdirSync(downloadDir(home, 'cifar10'), { recursive: true });
    fs.writeFileSync(part(), 'garbage from an earlier try');
    await cifar10('norange');
    expect(openDataset(home, 'cifar10').train.count).toBe(15);
    fs.rmSync(path.join(home, 'datasets', 'cifar10'), { recursive: true });
    fs.renameSync(path.join(downloadDir(home, 'cifar10'), 'cifar-10-binary.tar.gz'), part());
    await cifar10('ok');
    expect(requests.at(-1)?.range).toBe(`bytes=${archive.length}-`);
    expect(openDataset(home, 'cifar10').train.count).toBe(15);
  });

  it('reports HTTP errors and unreachable servers clearly', async () => {
    await expect(cifar10('missing')).rejects.toThrow(/cifar-10-binary\.tar\.gz: the server answered HTTP 404/);
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(downloadDataset(home, 'cifar10', { mirror: `http://127.0.0.1:${port}`, files: { files: [remote] } })).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:\d+\/cifar-10-binary\.tar\.gz/);
    await expect(downloadDataset(home, 'mnist')).rejects.toThrow("unknown download 'mnist' (available: cifar10, cifar100, svhn)");
  });

  it('downloads both SVHN files and imports them without flips', async () => {
    const mat = (name: string, images: number[], labels: number[]) => {
      const f = path.join(work, name);
      writeMat(f, svhnVars(images, labels), { compress: true });
      return fs.readFileSync(f);
    };
    files.set('train_32x32.mat', mat('train_32x32.mat', [0, 1], [10, 2]));
    files.set('test_32x32.mat', mat('test_32x32.mat', [2], [7]));
    const svhnFiles = ['train_32x32.mat', 'test_32x32.mat'].map((name) => ({
      name, url: 'unused', md5: crypto.createHash('md5').update(files.get(name)!).digest('hex'),
    }));
    const m = await downloadDataset(home, 'svhn', { mirror: `${base}/ok`, files: { files: svhnFiles } });
    expect(m).toMatchObject({ id: 'svhn', flipAugment: false });
    expect([...openDataset(home, 'svhn').train.labels]).toEqual([0, 2]);
  });
});
