// One checkpoint = one file: a JSON header (epoch, position in the epoch, trainer state) and the raw
// float32 buffers of every model weight (batch-norm statistics included) and optimizer slot, after
// a SHA-256 of all of it, verified on load: a truncated or bit-flipped file is refused, never
// loaded as weights. Written to a temporary file, synced, renamed, and the folder synced, so a
// crash or a power loss leaves the previous checkpoint whole. The one before stays beside it
// (`.prev`), so a corrupted latest checkpoint still leaves something to resume from.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tempPathFor } from '../../temp-files';
import { rethrowWriteFailure } from '../../write-errors';

/** Version 1 files (no checksum) are still read. */
const MAGIC_V1 = 'EXITLAB-CKPT-1\n';
const MAGIC = 'EXITLAB-CKPT-2\n';
const DIGEST_BYTES = 32;

class CheckpointCorruptError extends Error {}

/** A run folder's checkpoint files: the latest epoch, and the best by held-out robust accuracy. */
export const CHECKPOINT_FILES = { last: 'last.ckpt', best: 'best.ckpt' } as const;

export const previousCheckpoint = (file: string) => `${file}.prev`;

export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CheckpointHeader<State> {
  /** Epochs completed. */
  epoch: number;
  /** Batches of epoch+1 already trained (a checkpoint written on stop lies inside an epoch). */
  batchesDone: number;
  state: State;
}

export interface Checkpoint<State> extends CheckpointHeader<State> {
  weights: CheckpointTensor[];
  optimizer: CheckpointTensor[];
}

interface TensorEntry { name: string; shape: number[]; offset: number; length: number }

export async function snapshot(tensors: Array<{ name: string; tensor: tf.Tensor }>): Promise<CheckpointTensor[]> {
  return Promise.all(tensors.map(async ({ name, tensor }) => ({ name, shape: tensor.shape.slice(), data: (await tensor.data()) as Float32Array })));
}

export function writeCheckpoint<State>(file: string, ckpt: Checkpoint<State>): void {
  const entries: TensorEntry[] = [];
  const buffers: Buffer[] = [];
  let offset = 0;
  const add = (group: 'w' | 'o') => (t: CheckpointTensor) => {
    const buf = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    entries.push({ name: `${group}:${t.name}`, shape: t.shape, offset, length: t.data.length });
    buffers.push(buf);
    offset += buf.byteLength;
  };
  ckpt.weights.forEach(add('w'));
  ckpt.optimizer.forEach(add('o'));
  const header = Buffer.from(JSON.stringify({ epoch: ckpt.epoch, batchesDone: ckpt.batchesDone, state: ckpt.state, tensors: entries }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.byteLength);

  const parts = [length, header, ...buffers];
  const digest = createHash('sha256');
  parts.forEach((part) => digest.update(part));

  const tmp = tempPathFor(file);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [Buffer.from(MAGIC), digest.digest(), ...parts]) fs.writeSync(fd, part);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // A hard link keeps the one before under its own name without a moment where `file` is missing.
    if (fs.existsSync(file)) {
      fs.rmSync(previousCheckpoint(file), { force: true });
      fs.linkSync(file, previousCheckpoint(file));
    }
    fs.renameSync(tmp, file);
    syncPath(path.dirname(file));
  } catch (err) {
    // The previous checkpoint is untouched: only the temporary goes.
    fs.rmSync(tmp, { force: true });
    rethrowWriteFailure(err, `checkpoint ${file}`, file);
  }
}

/**
 * fsync of a file's data, or of a folder's entries: the latter makes a rename durable, without it
 * a power loss can bring back the old name.
 */
function syncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies a checkpoint under another name (best.ckpt) with the same crash and power-loss guarantees. */
export function copyCheckpoint(from: string, to: string): void {
  const tmp = tempPathFor(to);
  try {
    fs.copyFileSync(from, tmp);
    syncPath(tmp);
    fs.renameSync(tmp, to);
    syncPath(path.dirname(to));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    rethrowWriteFailure(err, `checkpoint ${to}`, to);
  }
}

/** The header and tensor bytes of a checkpoint file, checksum verified (version 2). */
function verifiedBody(file: string, bytes: Buffer): Buffer {
  const magic = bytes.subarray(0, MAGIC.length).toString();
  if (magic === MAGIC_V1) return bytes.subarray(MAGIC_V1.length);
  if (magic !== MAGIC) throw new CheckpointCorruptError(`${file} is not an ExitLab checkpoint`);
  const body = bytes.subarray(MAGIC.length + DIGEST_BYTES);
  const expected = bytes.subarray(MAGIC.length, MAGIC.length + DIGEST_BYTES);
  if (body.byteLength < 4 || !createHash('sha256').update(body).digest().equals(expected)) {
    throw new CheckpointCorruptError(`${file} is truncated or corrupted (its checksum does not match)`);
  }
  return body;
}

export function readCheckpoint<State>(file: string): Checkpoint<State> {
  const bytes = verifiedBody(file, fs.readFileSync(file));
  const headerLength = bytes.readUInt32LE(0);
  const start = 4;
  let header: CheckpointHeader<State> & { tensors: TensorEntry[] };
  try {
    header = JSON.parse(bytes.subarray(start, start + headerLength).toString());
  } catch {
    throw new CheckpointCorruptError(`${file} is truncated (its header is incomplete)`);
  }
  const body = start + headerLength;
  const weights: CheckpointTensor[] = [];
  const optimizer: CheckpointTensor[] = [];
  for (const e of header.tensors) {
    const from = body + e.offset;
    if (from + e.length * 4 > bytes.byteLength) throw new CheckpointCorruptError(`${file} is truncated (tensor ${e.name})`);
    // Copy into an aligned buffer: Float32Array views need 4-byte alignment.
    const data = new Float32Array(e.length);
    Buffer.from(data.buffer).set(bytes.subarray(from, from + e.length * 4));
    const [group, ...name] = e.name.split(':');
    (group === 'w' ? weights : optimizer).push({ name: name.join(':'), shape: e.shape, data });
  }
  return { epoch: header.epoch, batchesDone: header.batchesDone, state: header.state, weights, optimizer };
}

/**
 * The checkpoint a resume starts from: the latest, else the one before it, else the best. `note`
 * says which was used instead of the latest and why, for the run's log.
 */
export function readResumeCheckpoint<State>(paths: { last: string; best: string }): { checkpoint: Checkpoint<State>; file: string; note: string | null } {
  const problems: string[] = [];
  for (const file of [paths.last, previousCheckpoint(paths.last), paths.best]) {
    if (!fs.existsSync(file)) continue;
    try {
      const checkpoint = readCheckpoint<State>(file);
      const note = file === paths.last
        ? null
        : `resuming from ${path.basename(file)} (epoch ${checkpoint.epoch}) instead of the latest checkpoint: ${problems.join('; ')}`;
      return { checkpoint, file, note };
    } catch (err) {
      if (!(err instanceof CheckpointCorruptError)) throw err;
      problems.push(err.message);
    }
  }
  throw new CheckpointCorruptError(
    problems.length ? `no readable checkpoint to resume from: ${problems.join('; ')}` : `no checkpoint to resume from (${paths.last} is missing)`,
  );
}

/** Loads checkpoint weights into a model built from the same configuration, checking names and shapes. */
export function loadWeightsInto(model: tf.LayersModel, weights: CheckpointTensor[]): void {
  const targets = model.weights;
  if (targets.length !== weights.length) {
    throw new Error(`checkpoint has ${weights.length} weights, the model ${targets.length}: built from another configuration?`);
  }
  targets.forEach((w, i) => {
    const saved = weights[i];
    if (saved.name !== w.originalName || saved.shape.join('x') !== w.shape.join('x')) {
      throw new Error(`checkpoint weight ${saved.name} [${saved.shape}] does not match model weight ${w.originalName} [${w.shape}]`);
    }
    tf.tidy(() => {
      w.write(tf.tensor(saved.data, saved.shape));
    });
  });
}

export const modelWeightTensors = (model: tf.LayersModel) => model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
