// Downloads the official archives (where the machine has internet), resumable with HTTP Range
// requests, verified against the checksums the data sets' pages publish, then imported.
// Files land in <home>/downloads/<set>/ as <name>.part while in transfer and keep their name once
// verified, so a later import (e.g. CIFAR-100 with the other label kind) does not fetch them again.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetManifest } from '../../src-shared/datasets';
import { DatasetError } from './errors';
import { importDataset, type ImportOptions } from './importers';

export interface RemoteFile {
  name: string;
  url: string;
  md5: string;
  /** Published size in bytes, when known: checked before hashing. */
  bytes?: number;
}

export type DownloadableId = 'cifar10' | 'cifar100' | 'svhn';

/** The official files and their published MD5 checksums. */
export const DOWNLOADS: Record<DownloadableId, { files: RemoteFile[]; extra?: RemoteFile }> = {
  cifar10: {
    files: [{ name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', bytes: 170_052_171 }],
  },
  cifar100: {
    files: [{ name: 'cifar-100-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', bytes: 168_513_733 }],
  },
  svhn: {
    files: [
      { name: 'train_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/train_32x32.mat', md5: 'e26dedcc434d2e4c54c9b2d4a06d8373', bytes: 182_040_794 },
      { name: 'test_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/test_32x32.mat', md5: 'eb5a983be6a315427106f1b164d9cef3', bytes: 64_275_384 },
    ],
    extra: { name: 'extra_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/extra_32x32.mat', md5: 'a93ce644f1a588dc4d68dda5feec44a7' },
  },
};

export interface DownloadProgress {
  file: string;
  received: number;
  total: number | null;
  /** Bytes that were already on disk from an earlier, interrupted try. */
  resumedFrom: number;
}

export interface FetchOptions {
  onDownload?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

async function md5Of(file: string): Promise<string> {
  const hash = crypto.createHash('md5');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/**
 * Fetches `remote` into `dir` and verifies it; resumes a `.part` left by an interrupted try when the
 * server honours Range requests. Returns the verified file's path. A checksum mismatch deletes the
 * partial file (it cannot be repaired by resuming); an interrupted transfer keeps it.
 */
async function fetchVerified(remote: RemoteFile, dir: string, opts: FetchOptions = {}): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const final = path.join(dir, remote.name);
  const part = `${final}.part`;
  if (fs.existsSync(final) && (await md5Of(final)) === remote.md5) return final;

  let have = sizeOf(part);
  let response: Response;
  try {
    response = await fetch(remote.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    throw new DatasetError(
      `cannot reach ${remote.url} (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`,
    );
  }
  if (response.status === 416 && have > 0) {
    // Nothing left to send: the partial file may already be whole.
    await response.body?.cancel();
    return finish(remote, part, final);
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new DatasetError(`${remote.url}: the server answered HTTP ${response.status} ${response.statusText}`);
  }
  if (response.status === 206) {
    const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await response.body?.cancel();
      throw new DatasetError(`${remote.url}: the server resumed at an unexpected offset (${response.headers.get('content-range') ?? 'no Content-Range'}); ` +
        `delete ${part} and try again`);
    }
  } else {
    // The server ignores Range: start over.
    have = 0;
  }
  const resumedFrom = have;
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? resumedFrom + length : remote.bytes ?? null;
  const out = fs.createWriteStream(part, { flags: resumedFrom > 0 ? 'a' : 'w' });
  let received = resumedFrom;
  let lastReport = 0;
  try {
    if (!response.body) throw new Error('empty response');
    // Node's web streams are async iterable, but the ReadableStream type fetch returns does not say so.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      received += chunk.length;
      if (opts.onDownload && (Date.now() - lastReport > 200 || received === total)) {
        lastReport = Date.now();
        opts.onDownload({ file: remote.name, received, total, resumedFrom });
      }
    }
  } catch (err) {
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : (err as Error).message;
    throw new DatasetError(`download of ${remote.name} stopped at ${received}${total ? ` of ${total}` : ''} bytes (${why}); run the command again to resume`);
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  opts.onDownload?.({ file: remote.name, received, total, resumedFrom });
  if (total !== null && received < total) {
    throw new DatasetError(`download of ${remote.name} stopped at ${received} of ${total} bytes; run the command again to resume`);
  }
  return finish(remote, part, final);
}

async function finish(remote: RemoteFile, part: string, final: string): Promise<string> {
  const size = sizeOf(part);
  const sum = await md5Of(part);
  if (sum !== remote.md5 || (remote.bytes !== undefined && size !== remote.bytes)) {
    fs.rmSync(part, { force: true });
    throw new DatasetError(`${remote.name}: checksum mismatch (MD5 ${sum}, ${size} bytes; expected ${remote.md5}` +
      `${remote.bytes ? `, ${remote.bytes} bytes` : ''}); the damaged file was deleted, run the command again`);
  }
  fs.renameSync(part, final);
  return final;
}

export interface DownloadOptions extends ImportOptions, FetchOptions {
  /** Fetch `${mirror}/${name}` instead of the official address (a local mirror, or tests). */
  mirror?: string;
  /** Replaces the official file list (tests). */
  files?: { files: RemoteFile[]; extra?: RemoteFile };
}

export const downloadDir = (home: string, id: DownloadableId) => path.join(home, 'downloads', id);

/** Downloads one of the paper's data sets and imports it; returns the imported set's manifest. */
export async function downloadDataset(home: string, id: string, opts: DownloadOptions = {}): Promise<DatasetManifest> {
  if (!(id in DOWNLOADS)) throw new DatasetError(`unknown download '${id}' (available: ${Object.keys(DOWNLOADS).join(', ')})`);
  const which = id as DownloadableId;
  const table = opts.files ?? DOWNLOADS[which];
  const wanted = [...table.files, ...(opts.withExtra && table.extra ? [table.extra] : [])];
  const dir = downloadDir(home, which);
  const fetched: string[] = [];
  for (const f of wanted) {
    const remote = opts.mirror ? { ...f, url: `${opts.mirror.replace(/\/+$/, '')}/${f.name}` } : f;
    fetched.push(await fetchVerified(remote, dir, opts));
  }
  return importDataset(home, which === 'svhn' ? dir : fetched[0], opts);
}
