// Tiny fixture files in each official format, built by the tests themselves, with the HWC images and
// labels the importers must produce from them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tar from 'tar';

/** Pixel (row, col, channel) of fixture image `i`: distinct per image, row, column and channel. */
const px = (i: number, row: number, col: number, ch: number) => (i * 37 + row * 5 + col * 3 + ch * 71) % 256;

export interface Expected {
  images: Uint8Array;
  labels: number[];
}

export function hwc(indices: number[]): Uint8Array {
  const out = new Uint8Array(indices.length * 3072);
  indices.forEach((img, n) => {
    for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) for (let ch = 0; ch < 3; ch++) out[n * 3072 + (r * 32 + c) * 3 + ch] = px(img, r, c, ch);
  });
  return out;
}

/** CIFAR binary records: label bytes, then the red, green, blue planes. */
export function cifarRecords(items: Array<{ image: number; labels: number[] }>): Buffer {
  const size = items[0]?.labels.length ?? 1;
  const out = Buffer.alloc(items.length * (size + 3072));
  items.forEach((it, n) => {
    const o = n * (size + 3072);
    it.labels.forEach((l, k) => (out[o + k] = l));
    for (let ch = 0; ch < 3; ch++) for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) out[o + size + ch * 1024 + r * 32 + c] = px(it.image, r, c, ch);
  });
  return out;
}

export const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** cifar-10-batches-bin/ with 5 training batches of 3 images and a test batch of 2. */
export function writeCifar10Folder(parent: string): { dir: string; train: Expected; test: Expected } {
  const dir = path.join(parent, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  const train: number[] = [];
  const trainLabels: number[] = [];
  for (let b = 1; b <= 5; b++) {
    const items = [0, 1, 2].map((k) => ({ image: (b - 1) * 3 + k, labels: [((b - 1) * 3 + k) % 10] }));
    items.forEach((it) => {
      train.push(it.image);
      trainLabels.push(it.labels[0]);
    });
    fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), cifarRecords(items));
  }
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords([{ image: 100, labels: [9] }, { image: 101, labels: [3] }]));
  fs.writeFileSync(path.join(dir, 'batches.meta.txt'), CIFAR10_NAMES.join('\n') + '\n\n');
  fs.writeFileSync(path.join(dir, 'readme.html'), '<html></html>');
  return { dir, train: { images: hwc(train), labels: trainLabels }, test: { images: hwc([100, 101]), labels: [9, 3] } };
}

export const FINE = Array.from({ length: 100 }, (_, i) => `fine${i}`);
export const COARSE = Array.from({ length: 20 }, (_, i) => `coarse${i}`);

/** cifar-100-binary/ with 4 training and 2 test images; coarse label = fine label mod 20. */
export function writeCifar100Folder(parent: string): { dir: string; trainFine: number[]; trainCoarse: number[]; train: Uint8Array; test: Uint8Array } {
  const dir = path.join(parent, 'cifar-100-binary');
  fs.mkdirSync(dir, { recursive: true });
  const fine = [99, 0, 57, 20];
  const item = (image: number, f: number) => ({ image, labels: [f % 20, f] });
  fs.writeFileSync(path.join(dir, 'train.bin'), cifarRecords(fine.map((f, k) => item(k, f))));
  fs.writeFileSync(path.join(dir, 'test.bin'), cifarRecords([item(50, 1), item(51, 42)]));
  fs.writeFileSync(path.join(dir, 'fine_label_names.txt'), FINE.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'coarse_label_names.txt'), COARSE.join('\n') + '\n');
  return { dir, trainFine: fine, trainCoarse: fine.map((f) => f % 20), train: hwc([0, 1, 2, 3]), test: hwc([50, 51]) };
}

/** Packs `dir` (keeping its folder name) as a .tar.gz, as the official archives are. */
export async function tarGz(dir: string, out: string): Promise<string> {
  await tar.c({ gzip: true, file: out, cwd: path.dirname(dir), portable: true }, [path.basename(dir)]);
  return out;
}

// --- MATLAB level-5 writer (for the SVHN fixtures) ---

export interface MatVar {
  name: string;
  /** MATLAB class: 6 double, 9 uint8. */
  arrayClass: 6 | 9;
  dims: number[];
  /** Storage type: 2 miUINT8, 9 miDOUBLE. */
  dataType: 2 | 9;
  values: ArrayLike<number>;
}

function element(type: number, data: Buffer, le: boolean): Buffer {
  const tag = Buffer.alloc(8);
  if (le) {
    tag.writeUInt32LE(type, 0);
    tag.writeUInt32LE(data.length, 4);
  } else {
    tag.writeUInt32BE(type, 0);
    tag.writeUInt32BE(data.length, 4);
  }
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}

function matrix(v: MatVar, le: boolean): Buffer {
  const u32 = (vals: number[], signed: boolean) => {
    const b = Buffer.alloc(vals.length * 4);
    vals.forEach((x, i) => (signed ? (le ? b.writeInt32LE(x, i * 4) : b.writeInt32BE(x, i * 4)) : le ? b.writeUInt32LE(x, i * 4) : b.writeUInt32BE(x, i * 4)));
    return b;
  };
  let data: Buffer;
  if (v.dataType === 2) data = Buffer.from(Uint8Array.from(v.values));
  else {
    data = Buffer.alloc(v.values.length * 8);
    for (let i = 0; i < v.values.length; i++) (le ? data.writeDoubleLE(v.values[i], i * 8) : data.writeDoubleBE(v.values[i], i * 8));
  }
  const body = Buffer.concat([
    element(6, u32([v.arrayClass, 0], false), le),
    element(5, u32(v.dims, true), le),
    element(1, Buffer.from(v.name, 'latin1'), le),
    element(v.dataType, data, le),
  ]);
  return element(14, body, le);
}

/** Writes a level-5 MAT-file; compressed like SVHN's (one miCOMPRESSED element per variable) or not. */
export function writeMat(file: string, vars: MatVar[], opts: { compress: boolean; bigEndian?: boolean }): void {
  const le = !opts.bigEndian;
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, Platform: test, Created on: fixture', 0, 'latin1');
  header.fill(0, 116, 124);
  if (le) header.writeUInt16LE(0x0100, 124);
  else header.writeUInt16BE(0x0100, 124);
  header.write(le ? 'IM' : 'MI', 126, 'latin1');
  const parts = vars.map((v) => {
    const m = matrix(v, le);
    if (!opts.compress) return m;
    const z = zlib.deflateSync(m);
    const tag = Buffer.alloc(8);
    if (le) {
      tag.writeUInt32LE(15, 0);
      tag.writeUInt32LE(z.length, 4);
    } else {
      tag.writeUInt32BE(15, 0);
      tag.writeUInt32BE(z.length, 4);
    }
    return Buffer.concat([tag, z]);
  });
  fs.writeFileSync(file, Buffer.concat([header, ...parts]));
}

/** SVHN's X (32x32x3xN, column-major) of fixture images, and y. */
export function svhnVars(images: number[], labels: number[], opts: { yDouble?: boolean } = {}): MatVar[] {
  const X = new Uint8Array(images.length * 3072);
  images.forEach((img, n) => {
    for (let ch = 0; ch < 3; ch++) for (let c = 0; c < 32; c++) for (let r = 0; r < 32; r++) X[r + 32 * c + 1024 * ch + 3072 * n] = px(img, r, c, ch);
  });
  return [
    { name: 'X', arrayClass: 9, dims: [32, 32, 3, images.length], dataType: 2, values: X },
    opts.yDouble
      ? { name: 'y', arrayClass: 6, dims: [labels.length, 1], dataType: 9, values: labels }
      : { name: 'y', arrayClass: 9, dims: [labels.length, 1], dataType: 2, values: labels },
  ];
}

/** Every file under `dir` with its size and mtime: to check that a failed import changed nothing. */
export function snapshot(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/`);
        walk(p);
      } else {
        const s = fs.statSync(p);
        out.push(`${p} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}
