// A focused reader for MATLAB level-5 MAT-files (what SVHN's train_32x32.mat / test_32x32.mat are):
// numeric matrices, optionally inside miCOMPRESSED (zlib) elements, in either byte order. Cells,
// structs, sparse and complex arrays are skipped or refused.
//
// Why not a library: the one npm package for level-5 files (mat-for-js) is GPL-3.0 (this project is
// MIT), has a single release, and turns every matrix into JavaScript arrays — for SVHN that is
// 225 million numbers. This reader streams the file and keeps numeric data as raw bytes.
import * as fs from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import * as zlib from 'node:zlib';
import { ByteSource, UnexpectedEndError } from './byte-source';

export class MatFormatError extends Error {}

const MI = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16,
} as const;
const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1 };
/** mxDOUBLE_CLASS … mxUINT64_CLASS: the numeric array classes. */
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

export interface MatVariable {
  name: string;
  /** MATLAB array class (6 = double, 9 = uint8, …). */
  arrayClass: number;
  /** Dimensions, column-major (MATLAB order). */
  dims: number[];
  /** Storage type of the data (MAT data type, may be narrower than the class). */
  dataType: number;
  data: Buffer;
  littleEndian: boolean;
}

interface Tag {
  type: number;
  bytes: number;
  /** Small data element: the data sat inside the tag. */
  inline: Buffer | null;
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

async function readTag(src: ByteSource, le: boolean): Promise<Tag> {
  const raw = await src.read(8);
  const first = le ? raw.readUInt32LE(0) : raw.readUInt32BE(0);
  if (first >>> 16 !== 0) {
    const bytes = first >>> 16;
    return { type: first & 0xffff, bytes, inline: raw.subarray(4, 4 + bytes) };
  }
  return { type: first, bytes: le ? raw.readUInt32LE(4) : raw.readUInt32BE(4), inline: null };
}

async function readSmallElement(src: ByteSource, le: boolean): Promise<Tag & { data: Buffer }> {
  const tag = await readTag(src, le);
  if (tag.inline) return { ...tag, data: tag.inline };
  if (tag.bytes > 1 << 20) throw new MatFormatError(`an array header element of ${tag.bytes} bytes is implausible`);
  const data = await src.read(tag.bytes);
  await src.skip(pad8(tag.bytes));
  return { ...tag, data };
}

function readInts(data: Buffer, type: number, le: boolean): number[] {
  const size = MI_SIZE[type];
  if (type !== MI.INT32 && type !== MI.UINT32) throw new MatFormatError(`unexpected data type ${type} in an array header`);
  const out: number[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    out.push(type === MI.INT32 ? (le ? data.readInt32LE(o) : data.readInt32BE(o)) : le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  }
  return out;
}

/** Parses one miMATRIX element whose tag has been read; keeps its data when `want(name)` says so. */
async function readMatrix(src: ByteSource, bytes: number, le: boolean, want: (name: string) => boolean, seen: string[]): Promise<MatVariable | null> {
  const end = src.position + bytes;
  if (bytes === 0) return null; // an empty array element
  const flags = await readSmallElement(src, le);
  const [flagWord] = readInts(flags.data, flags.type, le);
  const arrayClass = flagWord & 0xff;
  const complex = (flagWord & 0x800) !== 0;
  const dims = readInts((await readSmallElement(src, le)).data, MI.INT32, le);
  const name = (await readSmallElement(src, le)).data.toString('latin1');
  seen.push(name);
  let variable: MatVariable | null = null;
  if (NUMERIC_CLASSES.has(arrayClass) && want(name)) {
    if (complex) throw new MatFormatError(`variable '${name}' is complex; a real array was expected`);
    const tag = await readTag(src, le);
    if (!(tag.type in MI_SIZE)) throw new MatFormatError(`variable '${name}' has an unknown data type ${tag.type}`);
    let data: Buffer;
    if (tag.inline) {
      data = Buffer.from(tag.inline);
    } else {
      data = Buffer.allocUnsafe(tag.bytes);
      await src.readInto(data, 0, tag.bytes);
    }
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count * MI_SIZE[tag.type]) {
      throw new MatFormatError(`variable '${name}' holds ${data.length} bytes of data, its dimensions ${dims.join('x')} need ${count * MI_SIZE[tag.type]}`);
    }
    variable = { name, arrayClass, dims, dataType: tag.type, data, littleEndian: le };
  }
  const left = end - src.position;
  if (left < 0) throw new MatFormatError(`array '${name}' is longer than its element`);
  await src.skip(left);
  return variable;
}

function describe(err: unknown): Error {
  if (err instanceof MatFormatError) return err;
  if (err instanceof UnexpectedEndError) return new MatFormatError('the file ends early (truncated?)');
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return new MatFormatError(`a compressed block is damaged (${(err as Error).message})`);
  return err as Error;
}

/**
 * Reads the numeric variables named in `names` from a level-5 MAT-file. Variables not asked for are
 * skipped without keeping their data; `all` lists every variable name in the file. Throws
 * MatFormatError for anything that is not such a file.
 */
export async function readMatVariables(file: string, names: string[]): Promise<{ variables: Map<string, MatVariable>; all: string[] }> {
  const want = (n: string) => names.includes(n);
  const found = new Map<string, MatVariable>();
  const all: string[] = [];
  const src = ByteSource.from(fs.createReadStream(file, { highWaterMark: 1 << 20 }));
  try {
    const header = await src.read(128).catch(() => {
      throw new MatFormatError('too short to be a MAT-file');
    });
    const text = header.subarray(0, 116).toString('latin1');
    if (!text.startsWith('MATLAB 5.0 MAT-file')) {
      if (text.startsWith('MATLAB 7.3') || header.subarray(0, 8).toString('latin1') === '\x89HDF\r\n\x1a\n') {
        throw new MatFormatError('is a MATLAB 7.3 (HDF5) MAT-file; only level-5 MAT-files (as SVHN publishes them) are supported');
      }
      throw new MatFormatError('is not a MATLAB level-5 MAT-file (no "MATLAB 5.0 MAT-file" header)');
    }
    const indicator = header.subarray(126, 128).toString('latin1');
    if (indicator !== 'IM' && indicator !== 'MI') throw new MatFormatError(`has an unknown byte-order mark '${indicator}'`);
    const le = indicator === 'IM';

    while (!(await src.atEnd())) {
      const tag = await readTag(src, le);
      if (tag.type === MI.COMPRESSED) {
        const start = src.position;
        const inflate = zlib.createInflate();
        pipeline(Readable.from(src.stream(tag.bytes)), inflate, () => {});
        const inner = ByteSource.from(inflate);
        const innerTag = await readTag(inner, le);
        if (innerTag.type === MI.MATRIX) {
          const v = await readMatrix(inner, innerTag.bytes, le, want, all);
          if (v) found.set(v.name, v);
        }
        await inner.drain();
        await src.skip(start + tag.bytes - src.position);
      } else if (tag.type === MI.MATRIX) {
        const v = await readMatrix(src, tag.bytes, le, want, all);
        if (v) found.set(v.name, v);
        await src.skip(pad8(tag.bytes));
      } else if (tag.inline === null) {
        await src.skip(tag.bytes + pad8(tag.bytes));
      }
    }
  } catch (err) {
    throw describe(err);
  }
  return { variables: found, all };
}

/** The values of a (small) numeric variable as numbers. */
export function matNumbers(v: MatVariable): Float64Array {
  const size = MI_SIZE[v.dataType];
  const n = v.data.length / size;
  const out = new Float64Array(n);
  const d = v.data;
  const le = v.littleEndian;
  for (let i = 0, o = 0; i < n; i++, o += size) {
    switch (v.dataType) {
      case MI.INT8: out[i] = d.readInt8(o); break;
      case MI.UINT8: out[i] = d[o]; break;
      case MI.INT16: out[i] = le ? d.readInt16LE(o) : d.readInt16BE(o); break;
      case MI.UINT16: out[i] = le ? d.readUInt16LE(o) : d.readUInt16BE(o); break;
      case MI.INT32: out[i] = le ? d.readInt32LE(o) : d.readInt32BE(o); break;
      case MI.UINT32: out[i] = le ? d.readUInt32LE(o) : d.readUInt32BE(o); break;
      case MI.SINGLE: out[i] = le ? d.readFloatLE(o) : d.readFloatBE(o); break;
      case MI.DOUBLE: out[i] = le ? d.readDoubleLE(o) : d.readDoubleBE(o); break;
      case MI.INT64: out[i] = Number(le ? d.readBigInt64LE(o) : d.readBigInt64BE(o)); break;
      case MI.UINT64: out[i] = Number(le ? d.readBigUInt64LE(o) : d.readBigUInt64BE(o)); break;
      default: throw new MatFormatError(`variable '${v.name}' has data type ${v.dataType}, which is not numeric`);
    }
  }
  return out;
}

/** The values of a variable as bytes 0–255 (no copy when stored as uint8). */
export function matBytes(v: MatVariable): Uint8Array {
  if (v.dataType === MI.UINT8) return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  const values = matNumbers(v);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(Number.isInteger(x) && x >= 0 && x <= 255)) {
      throw new MatFormatError(`variable '${v.name}' holds ${x} at element ${i}; pixel values 0–255 were expected`);
    }
    out[i] = x;
  }
  return out;
}
