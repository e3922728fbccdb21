// Run bundles: one file holding a run's records and the files of its folder (checkpoints), to share
// a run with another machine. Layout, gzip-compressed: a magic line, the header length (uint32 LE),
// the JSON header (run record, file list with sizes and SHA-256), then the files' bytes in order.
// Import checks everything before it writes anything, so a damaged bundle changes nothing.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { z } from 'zod';
import { describeZodError } from '../../src-shared/config';
import { ACTIVE_STATUSES, RunDetailSchema, type RunDetail } from '../../src-shared/runs';
import { StoreError, type RunStore } from '../store/run-store';
import { codeVersion } from './code-version';
import { runDirOf } from './paths';
import { tempPathInHome, removeStaleTemps, tempPathFor } from '../temp-files';
import { writeFailureMessage } from '../write-errors';

const MAGIC = 'EXITLAB-BUNDLE-1\n';

export class BundleError extends Error {}

const BundleHeaderSchema = z.object({
  formatVersion: z.literal(1),
  createdAt: z.string(),
  exporterVersion: z.string(),
  run: RunDetailSchema,
  files: z.array(z.object({
    /** Relative to the run folder, '/'-separated. */
    path: z.string().min(1),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })),
});
type BundleHeader = z.infer<typeof BundleHeaderSchema>;

/**
 * Files of a run folder, relative and '/'-separated. Temporary files of an interrupted write are left
 * out, and so is the checkpoint kept from before the latest (`.prev`): a local safety copy, not the run.
 */
function runFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && !/\.tmp(-\d+)?$|\.prev$/.test(e.name)) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** A path from a bundle, checked so that it cannot point outside the run folder. */
function safeRelative(p: string): string {
  const norm = path.posix.normalize(p);
  if (norm.startsWith('../') || norm === '..' || path.posix.isAbsolute(norm) || norm.includes('\0') || norm === '.') {
    throw new BundleError(`the bundle lists a file outside its run folder ('${p}')`);
  }
  return norm;
}

/** Writes the bundle (whole or not at all); `sha256` is the digest of the file written. */
export function exportBundle(home: string, store: RunStore, runId: string, out: string): { file: string; bytes: number; files: number; sha256: string } {
  const detail = store.getRun(runId);
  if (ACTIVE_STATUSES.includes(detail.summary.status)) {
    throw new BundleError(`run '${runId}' is ${detail.summary.status}: stop it (or wait for it to end) before bundling it`);
  }
  const dest = path.resolve(out);
  if (fs.existsSync(dest)) throw new BundleError(`${dest} already exists: choose a new file name`);
  const parent = path.dirname(dest);
  if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory()) throw new BundleError(`cannot write ${dest}: folder ${parent} does not exist`);
  try {
    fs.accessSync(parent, fs.constants.W_OK);
  } catch {
    throw new BundleError(`cannot write ${dest}: folder ${parent} is not writable`);
  }

  const dir = runDirOf(home, runId);
  const names = runFiles(dir);
  const contents = names.map((n) => fs.readFileSync(path.join(dir, ...n.split('/'))));
  // Artefacts outside the run folder (exports elsewhere on this machine) mean nothing on another one.
  const run: RunDetail = { ...detail, artefacts: detail.artefacts.filter((a) => !path.isAbsolute(a.path)) };
  const header: BundleHeader = {
    formatVersion: 1,
    createdAt: new Date().toISOString(),
    exporterVersion: codeVersion(),
    run,
    files: names.map((n, i) => ({ path: n, size: contents[i].byteLength, sha256: sha256(contents[i]) })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.byteLength);
  const packed = zlib.gzipSync(Buffer.concat([Buffer.from(MAGIC), length, json, ...contents]));
  removeStaleTemps(path.dirname(dest), path.basename(dest));
  const tmp = tempPathFor(dest);
  try {
    fs.writeFileSync(tmp, packed);
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new BundleError(writeFailureMessage(err, `cannot write ${dest}`, dest));
  }
  return { file: dest, bytes: packed.byteLength, files: names.length, sha256: sha256(packed) };
}

/**
 * Reads and checks a whole bundle; throws BundleError naming the first problem. `expectedSha256`:
 * the digest of the whole file as its writer recorded it elsewhere, checked on the bytes read.
 */
export function readBundle(file: string, expectedSha256?: string): { header: BundleHeader; contents: Map<string, Buffer> } {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new BundleError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (expectedSha256 !== undefined && sha256(raw) !== expectedSha256) {
    throw new BundleError(`${file} does not match the checksum its writer recorded (damaged, or rewritten since)`);
  }
  let body: Buffer;
  try {
    body = zlib.gunzipSync(raw);
  } catch (err) {
    throw new BundleError(`${file} is not a readable ExitLab run bundle (corrupted or not a bundle: ${(err as Error).message})`);
  }
  if (body.subarray(0, MAGIC.length).toString() !== MAGIC) throw new BundleError(`${file} is not an ExitLab run bundle`);
  const start = MAGIC.length + 4;
  if (body.byteLength < start) throw new BundleError(`${file} is truncated`);
  const headerLength = body.readUInt32LE(MAGIC.length);
  if (start + headerLength > body.byteLength) throw new BundleError(`${file} is truncated (header)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(start, start + headerLength).toString('utf8'));
  } catch {
    throw new BundleError(`${file} is corrupted: its header is not valid JSON`);
  }
  const result = BundleHeaderSchema.safeParse(parsed);
  if (!result.success) throw new BundleError(`${file} is corrupted or from an incompatible version: ${describeZodError(result.error)}`);
  const header = result.data;
  const contents = new Map<string, Buffer>();
  let offset = start + headerLength;
  for (const f of header.files) {
    const rel = safeRelative(f.path);
    if (offset + f.size > body.byteLength) throw new BundleError(`${file} is truncated (file ${f.path})`);
    const data = body.subarray(offset, offset + f.size);
    if (sha256(data) !== f.sha256) throw new BundleError(`${file} is corrupted: file ${f.path} does not match its checksum`);
    contents.set(rel, data);
    offset += f.size;
  }
  if (offset !== body.byteLength) throw new BundleError(`${file} is corrupted: ${body.byteLength - offset} unexpected bytes at its end`);
  return { header, contents };
}

export function importBundle(home: string, store: RunStore, file: string, expectedSha256?: string): { runId: string; files: number } {
  const { header, contents } = readBundle(file, expectedSha256);
  const runId = header.run.summary.id;
  if (store.hasRun(runId)) throw new BundleError(`run '${runId}' already exists in this data folder (delete it first to import the bundle again)`);
  const dir = runDirOf(home, runId);
  if (fs.existsSync(dir)) throw new BundleError(`folder ${dir} already exists but no run '${runId}' is recorded: move it away first`);

  const tmp = tempPathInHome(home, `import-${runId}`);
  try {
    for (const [rel, data] of contents) {
      const target = path.join(tmp, ...rel.split('/'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, data);
    }
    fs.mkdirSync(tmp, { recursive: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new BundleError(writeFailureMessage(err, `cannot write the run's files into ${dir}`, dir));
  }
  try {
    store.importRun(header.run);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (err instanceof StoreError) throw new BundleError(err.message);
    throw err;
  }
  return { runId, files: contents.size };
}
