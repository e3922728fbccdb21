// Importers for the data sets as their official pages serve them: CIFAR-10 / CIFAR-100 binary
// versions (.tar.gz or the extracted folder), SVHN cropped digits (.mat), and a single .bin file in
// the CIFAR-10 record layout. Everything is read and checked first; only a complete, valid set is
// written (atomically) to the data folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { IMAGE_VALUES, type DatasetManifest } from '../../src-shared/datasets';
import { readDatasetManifest, availableIds } from './catalog';
import { DatasetError } from './errors';
import { CIFAR10_CLASSES, CifarFormatError, parseLabelNames, parseRecords, recordCount, type RecordLayout } from './formats/cifar';
import { MatFormatError } from './formats/mat5';
import { readSvhnMat, SVHN_CLASSES, SvhnFormatError } from './formats/svhn';
import { datasetDir, splitChecksum, writeDataset, type ManifestDraft } from './store';
import type { Split } from './types';

export interface ImportOptions {
  /** Display name; the id is derived from it. */
  name?: string;
  /** CIFAR-100: fine (100 classes, default) or coarse (20 superclasses) labels. */
  labels?: 'fine' | 'coarse';
  /** SVHN: also import extra_32x32.mat (531k images) as a third split. */
  withExtra?: boolean;
  onProgress?: (message: string) => void;
}

const CIFAR10 = { dir: 'cifar-10-batches-bin', train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: 'test_batch.bin', meta: 'batches.meta.txt' };
const CIFAR100 = { dir: 'cifar-100-binary', train: 'train.bin', test: 'test.bin', fine: 'fine_label_names.txt', coarse: 'coarse_label_names.txt' };
const SVHN = { train: 'train_32x32.mat', test: 'test_32x32.mat', extra: 'extra_32x32.mat' };

const CIFAR10_LAYOUT: RecordLayout = { labelBytes: 1, labelIndex: 0, classes: 10 };

/** A set of named files, from a folder or from inside an archive. */
interface FileSet {
  where: string;
  has(name: string): boolean;
  read(name: string): Promise<Uint8Array>;
}

function folderFiles(dir: string): FileSet {
  return {
    where: dir,
    has: (name) => fs.existsSync(path.join(dir, name)),
    read: async (name) => fs.readFileSync(path.join(dir, name)),
  };
}

/** Reads the wanted members of a .tar.gz into memory (by base name, inside `prefix`/). */
async function archiveFiles(file: string, prefix: string, wanted: string[]): Promise<FileSet> {
  const found = new Map<string, Uint8Array>();
  await tar.t({
    file,
    strict: true,
    onReadEntry: (entry) => {
      const parts = entry.path.split('/').filter((p) => p.length > 0 && p !== '.');
      const base = parts[parts.length - 1];
      if (entry.type === 'File' && parts.length === 2 && parts[0] === prefix && wanted.includes(base)) {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => found.set(base, Buffer.concat(chunks)));
      } else {
        entry.resume();
      }
    },
  });
  return {
    where: `${file} (${prefix}/)`,
    has: (name) => found.has(name),
    read: async (name) => found.get(name)!,
  };
}

/** The top folder names in a .tar.gz, to tell CIFAR-10 from CIFAR-100. */
async function archiveTopFolders(file: string): Promise<Set<string>> {
  const tops = new Set<string>();
  await tar.t({ file, strict: true, onReadEntry: (e) => {
    tops.add(e.path.split('/').filter((p) => p.length > 0 && p !== '.')[0]);
    e.resume();
  } });
  return tops;
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  if (!s) throw new DatasetError(`--name '${name}' gives no usable id (use letters or digits)`);
  return s;
}

function missing(files: FileSet, names: string[], what: string): void {
  const absent = names.filter((n) => !files.has(n));
  if (absent.length) throw new DatasetError(`${files.where}: missing ${absent.join(', ')} (${what})`);
}

async function readCifar10(files: FileSet, opts: ImportOptions): Promise<{ train: Split; test: Split; classes: string[] }> {
  missing(files, [...CIFAR10.train, CIFAR10.test], 'a CIFAR-10 binary version has data_batch_1.bin … data_batch_5.bin and test_batch.bin');
  const load = async (name: string) => {
    opts.onProgress?.(`reading ${name}`);
    return { file: path.join(files.where, name), data: await files.read(name) };
  };
  const trainParts = [];
  for (const name of CIFAR10.train) trainParts.push(await load(name));
  const train = parseRecords(trainParts, CIFAR10_LAYOUT);
  const test = parseRecords([await load(CIFAR10.test)], CIFAR10_LAYOUT);
  const classes = files.has(CIFAR10.meta)
    ? parseLabelNames(path.join(files.where, CIFAR10.meta), Buffer.from(await files.read(CIFAR10.meta)).toString('utf8'), 10)
    : CIFAR10_CLASSES;
  return { train, test, classes };
}

async function readCifar100(files: FileSet, opts: ImportOptions): Promise<{ train: Split; test: Split; classes: string[] }> {
  const kind = opts.labels ?? 'fine';
  const namesFile = kind === 'fine' ? CIFAR100.fine : CIFAR100.coarse;
  missing(files, [CIFAR100.train, CIFAR100.test, namesFile], 'a CIFAR-100 binary version has train.bin, test.bin and the label-name files');
  const layout: RecordLayout = { labelBytes: 2, labelIndex: kind === 'fine' ? 1 : 0, classes: kind === 'fine' ? 100 : 20 };
  const classes = parseLabelNames(path.join(files.where, namesFile), Buffer.from(await files.read(namesFile)).toString('utf8'), layout.classes);
  opts.onProgress?.(`reading ${CIFAR100.train}`);
  const train = parseRecords([{ file: path.join(files.where, CIFAR100.train), data: await files.read(CIFAR100.train) }], layout);
  opts.onProgress?.(`reading ${CIFAR100.test}`);
  const test = parseRecords([{ file: path.join(files.where, CIFAR100.test), data: await files.read(CIFAR100.test) }], layout);
  return { train, test, classes };
}

async function readSvhnFolder(dir: string, opts: ImportOptions): Promise<Record<string, Split>> {
  const names = [SVHN.train, SVHN.test, ...(opts.withExtra ? [SVHN.extra] : [])];
  missing(folderFiles(dir), names, 'SVHN is imported from train_32x32.mat and test_32x32.mat side by side');
  const splits: Record<string, Split> = {};
  for (const [split, name] of [['train', SVHN.train], ['test', SVHN.test], ['extra', SVHN.extra]] as const) {
    if (!names.includes(name)) continue;
    const file = path.join(dir, name);
    opts.onProgress?.(`reading ${name}`);
    try {
      splits[split] = await readSvhnMat(file);
    } catch (err) {
      if (err instanceof MatFormatError || err instanceof SvhnFormatError) throw new DatasetError(`${file}: ${err.message}`);
      throw err;
    }
  }
  return splits;
}

/** The test file beside a single training .bin: the same name with 'train' replaced by 'test'. */
function siblingTest(file: string): string | null {
  const base = path.basename(file);
  if (!base.includes('train')) return null;
  const candidate = path.join(path.dirname(file), base.replace('train', 'test'));
  return fs.existsSync(candidate) ? candidate : null;
}

/** Fraction of a single .bin held out as the test split when it has no sibling test file. */
export const HOLDOUT = 0.1;

async function readSingleBin(file: string, opts: ImportOptions): Promise<{ train: Split; test: Split; origin: Record<string, unknown> }> {
  opts.onProgress?.(`reading ${path.basename(file)}`);
  const all = parseRecords([{ file, data: fs.readFileSync(file) }], CIFAR10_LAYOUT);
  const testFile = siblingTest(file);
  if (testFile) {
    opts.onProgress?.(`reading ${path.basename(testFile)} as the test split`);
    const test = parseRecords([{ file: testFile, data: fs.readFileSync(testFile) }], CIFAR10_LAYOUT);
    return { train: all, test, origin: { path: path.resolve(file), testPath: path.resolve(testFile) } };
  }
  // No test file: the last records become the test split, so the training order is the file's.
  const testCount = Math.max(1, Math.round(all.count * HOLDOUT));
  const trainCount = all.count - testCount;
  if (trainCount < 1) throw new DatasetError(`${file}: ${all.count} record(s) are too few to hold out a test split`);
  return {
    train: { images: all.images.subarray(0, trainCount * IMAGE_VALUES), labels: all.labels.subarray(0, trainCount), count: trainCount },
    test: { images: all.images.subarray(trainCount * IMAGE_VALUES), labels: all.labels.subarray(trainCount), count: testCount },
    origin: { path: path.resolve(file), testHeldOut: `last ${testCount} records` },
  };
}

function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

function readHead(file: string, n: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(n);
    const got = fs.readSync(fd, head, 0, n, 0);
    return head.subarray(0, got).toString('latin1');
  } finally {
    fs.closeSync(fd);
  }
}

interface Plan {
  source: DatasetManifest['source'];
  defaultId: string;
  defaultName: string;
  flip: boolean;
  read(): Promise<{ splits: Record<string, Split>; classes: string[]; origin: Record<string, unknown> }>;
}

/** Works out what `input` is without reading it all; throws DatasetError naming what is wrong. */
async function plan(input: string, opts: ImportOptions): Promise<Plan> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(input);
  } catch {
    throw new DatasetError(`${input}: no such file or folder`);
  }
  const abs = path.resolve(input);
  const fine = opts.labels ?? 'fine';
  const cifar100Plan = (files: () => Promise<FileSet>): Plan => ({
    source: 'cifar100',
    defaultId: `cifar100-${fine}`,
    defaultName: `CIFAR-100 (${fine} labels)`,
    flip: true,
    read: async () => {
      const { train, test, classes } = await readCifar100(await files(), opts);
      return { splits: { train, test }, classes, origin: { path: abs, labels: fine } };
    },
  });
  const cifar10Plan = (files: () => Promise<FileSet>): Plan => ({
    source: 'cifar10',
    defaultId: 'cifar10',
    defaultName: 'CIFAR-10',
    flip: true,
    read: async () => {
      const { train, test, classes } = await readCifar10(await files(), opts);
      return { splits: { train, test }, classes, origin: { path: abs } };
    },
  });
  const svhnPlan = (dir: string): Plan => ({
    source: 'svhn',
    defaultId: 'svhn',
    defaultName: opts.withExtra ? 'SVHN (with extra)' : 'SVHN',
    // Mirrored digits are not digits.
    flip: false,
    read: async () => ({ splits: await readSvhnFolder(dir, opts), classes: SVHN_CLASSES, origin: { path: dir, extra: Boolean(opts.withExtra) } }),
  });
  if (opts.labels && !(['fine', 'coarse'] as const).includes(opts.labels)) throw new DatasetError(`--labels must be fine or coarse, got '${opts.labels}'`);

  if (stat.isDirectory()) {
    for (const dir of [abs, path.join(abs, CIFAR10.dir), path.join(abs, CIFAR100.dir)]) {
      const files = folderFiles(dir);
      if ([...CIFAR10.train, CIFAR10.test, CIFAR10.meta].some((n) => files.has(n))) return cifar10Plan(async () => files);
      if ([CIFAR100.train, CIFAR100.test, CIFAR100.fine].some((n) => files.has(n))) return cifar100Plan(async () => files);
    }
    if ([SVHN.train, SVHN.test].some((n) => fs.existsSync(path.join(abs, n)))) return svhnPlan(abs);
    throw new DatasetError(
      `${input}: the folder holds none of the expected files (CIFAR-10: data_batch_1.bin …; CIFAR-100: train.bin, test.bin; SVHN: train_32x32.mat)`,
    );
  }

  const lower = abs.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || isGzip(abs)) {
    if (!isGzip(abs)) throw new DatasetError(`${input}: not a gzip file (expected the official cifar-10-binary.tar.gz or cifar-100-binary.tar.gz)`);
    let tops: Set<string>;
    try {
      tops = await archiveTopFolders(abs);
    } catch (err) {
      throw new DatasetError(`${input}: not a readable .tar.gz archive (${(err as Error).message})`);
    }
    const wrap = (prefix: string, names: string[]) => async () => {
      try {
        return await archiveFiles(abs, prefix, names);
      } catch (err) {
        throw new DatasetError(`${input}: not a readable .tar.gz archive (${(err as Error).message})`);
      }
    };
    if (tops.has(CIFAR10.dir)) return cifar10Plan(wrap(CIFAR10.dir, [...CIFAR10.train, CIFAR10.test, CIFAR10.meta]));
    if (tops.has(CIFAR100.dir)) return cifar100Plan(wrap(CIFAR100.dir, [CIFAR100.train, CIFAR100.test, CIFAR100.fine, CIFAR100.coarse]));
    throw new DatasetError(
      `${input}: the archive holds neither ${CIFAR10.dir}/ nor ${CIFAR100.dir}/ (found: ${[...tops].join(', ') || 'nothing'}); is it the binary version?`,
    );
  }
  if (lower.endsWith('.mat')) {
    if (!readHead(abs, 19).startsWith('MATLAB 5.0 MAT-file')) {
      throw new DatasetError(`${input}: not a MATLAB level-5 MAT-file (SVHN's train_32x32.mat and test_32x32.mat are)`);
    }
    const base = path.basename(abs);
    if (!Object.values(SVHN).includes(base)) throw new DatasetError(`${input}: expected SVHN's ${SVHN.train} or ${SVHN.test} (the pair is imported together)`);
    return svhnPlan(path.dirname(abs));
  }
  if (lower.endsWith('.bin')) {
    try {
      recordCount(stat.size, CIFAR10_LAYOUT);
    } catch (err) {
      throw new DatasetError(`${input}: ${(err as Error).message}`);
    }
    const stem = path.basename(abs).replace(/\.bin$/i, '');
    return {
      source: 'cifar10-bin',
      defaultId: slug(stem),
      defaultName: stem,
      flip: true,
      read: async () => {
        const { train, test, origin } = await readSingleBin(abs, opts);
        return { splits: { train, test }, classes: CIFAR10_CLASSES, origin };
      },
    };
  }
  throw new DatasetError(`${input}: unsupported file type (expected a CIFAR .tar.gz or folder, an SVHN .mat, or a .bin in the CIFAR-10 record layout)`);
}

/** Imports a data set from a file or folder into the data folder; returns its manifest. */
export async function importDataset(home: string, input: string, opts: ImportOptions = {}): Promise<DatasetManifest> {
  const p = await plan(input, opts);
  const id = opts.name ? slug(opts.name) : p.defaultId;
  if (availableIds(home).includes(id)) {
    throw new DatasetError(`a data set with id '${id}' already exists (remove it with \`exitlab datasets remove ${id}\`, or import under another --name)`);
  }
  let read;
  try {
    read = await p.read();
  } catch (err) {
    if (err instanceof CifarFormatError) throw new DatasetError(err.message);
    throw err;
  }
  // The same data imported before under another name.
  const sums = Object.fromEntries(Object.entries(read.splits).map(([k, s]) => [k, splitChecksum(s)]));
  for (const other of availableIds(home)) {
    if (other === 'synthetic' || !fs.existsSync(datasetDir(home, other))) continue;
    const m = readDatasetManifest(home, other);
    const same = Object.keys(sums).length === Object.keys(m.splits).length && Object.entries(sums).every(([k, s]) => m.splits[k]?.sha256 === s);
    if (same && m.classes.join('\n') === read.classes.join('\n')) throw new DatasetError(`${input}: this data was already imported as '${other}'`);
  }
  opts.onProgress?.(`writing data set '${id}'`);
  const draft: ManifestDraft = { id, name: opts.name ?? p.defaultName, source: p.source, classes: read.classes, flipAugment: p.flip, origin: read.origin };
  return writeDataset(home, draft, read.splits);
}
