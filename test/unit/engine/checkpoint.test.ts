import { describe, expect, it, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadWeightsInto, modelWeightTensors, readCheckpoint, snapshot, writeCheckpoint } from '../../../src-main/engine/train/checkpoint';
import { tinyNet, useCpu } from '../../helpers/tiny-net';

describe('checkpoints', () => {
  beforeAll(useCpu);

  it('round-trips weights, optimizer slots and state bit for bit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ckpt-'));
    const file = path.join(dir, 'last.ckpt');
    const a = tinyNet(1);
    const velocity = [tf.tensor([1.5, -2.25, 3e-8])];
    writeCheckpoint(file, { epoch: 3, batchesDone: 7, state: { note: 'x' }, weights: await snapshot(modelWeightTensors(a.layersModel)), optimizer: await snapshot([{ name: 'v0', tensor: velocity[0] }]) });
    expect(fs.readdirSync(dir)).toEqual(['last.ckpt']);

    const ckpt = readCheckpoint<{ note: string }>(file);
    expect([ckpt.epoch, ckpt.batchesDone, ckpt.state.note]).toEqual([3, 7, 'x']);
    expect(Array.from(ckpt.optimizer[0].data)).toEqual(Array.from(velocity[0].dataSync()));
    const b = tinyNet(2);
    loadWeightsInto(b.layersModel, ckpt.weights);
    a.layersModel.weights.forEach((w, i) => {
      expect(Array.from(b.layersModel.weights[i].read().dataSync())).toEqual(Array.from(w.read().dataSync()));
    });
  });

  it('refuses a checkpoint of another architecture and a truncated file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ckpt-'));
    const file = path.join(dir, 'c.ckpt');
    const a = tinyNet(1);
    writeCheckpoint(file, { epoch: 1, batchesDone: 0, state: {}, weights: await snapshot(modelWeightTensors(a.layersModel)), optimizer: [] });
    const other = tinyNet(1, { blocks: 2 });
    expect(() => loadWeightsInto(other.layersModel, readCheckpoint(file).weights)).toThrow(/another configuration|does not match/);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(() => readCheckpoint(file)).toThrow(/truncated/);
    fs.writeFileSync(file, 'hello');
    expect(() => readCheckpoint(file)).toThrow(/not an ExitLab checkpoint/);
  });
});
