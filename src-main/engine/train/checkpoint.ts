// One checkpoint = one file: a JSON header (epoch, position in the epoch, trainer state) and the raw
// float32 buffers of every model weight (batch-norm statistics included) and optimizer slot.
// Written to a temporary file, synced and renamed, so a crash leaves the previous checkpoint whole.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const MAGIC = 'EXITLAB-CKPT-1\n';

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

  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const part of [Buffer.from(MAGIC), length, header, ...buffers]) fs.writeSync(fd, part);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readCheckpoint<State>(file: string): Checkpoint<State> {
  const bytes = fs.readFileSync(file);
  if (bytes.subarray(0, MAGIC.length).toString() !== MAGIC) throw new Error(`${file} is not an ExitLab checkpoint`);
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(bytes.subarray(start, start + headerLength).toString()) as CheckpointHeader<State> & { tensors: TensorEntry[] };
  const body = start + headerLength;
  const weights: CheckpointTensor[] = [];
  const optimizer: CheckpointTensor[] = [];
  for (const e of header.tensors) {
    const from = body + e.offset;
    if (from + e.length * 4 > bytes.byteLength) throw new Error(`${file} is truncated (tensor ${e.name})`);
    // Copy into an aligned buffer: Float32Array views need 4-byte alignment.
    const data = new Float32Array(e.length);
    Buffer.from(data.buffer).set(bytes.subarray(from, from + e.length * 4));
    const [group, ...name] = e.name.split(':');
    (group === 'w' ? weights : optimizer).push({ name: name.join(':'), shape: e.shape, data });
  }
  return { epoch: header.epoch, batchesDone: header.batchesDone, state: header.state, weights, optimizer };
}

/** Loads checkpoint weights into a model built from the same configuration, checking names and shapes. */
export function loadWeightsInto(model: tf.LayersModel, weights: CheckpointTensor[]): void {
  const targets = model.weights;
  if (targets.length !== weights.length) throw new Error(`checkpoint has ${weights.length} weights, the model ${targets.length}: built from another configuration?`);
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
