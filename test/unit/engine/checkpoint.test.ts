import { describe, expect, it, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  copyCheckpoint, loadWeightsInto, modelWeightTensors, previousCheckpoint, readCheckpoint, readResumeCheckpoint, snapshot, writeCheckpoint,
} from '../../../src-main/engine/train/checkpoint';
import { tinyNet, useCpu } from '../../helpers/tiny-net';

describe('checkpoints', () => {
  beforeAll(useCpu);

  it('round-trips weights, optimizer slots and state bit for bit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ckpt-'));
    const file = path.join(dir, 'last.ckpt');
    const a = tinyNet(1);
    const velocity = [tf.tensor([1.5, -2.25, 3e-8])];
    writeCheckpoint(file, {
      epoch: 3, batchesDone: 7, state: { note: 'x' }, weights: await snapshot(modelWeightTensors(a.layersModel)),
      optimizer: await snapshot([{ name: 'v0', tensor: velocity[0] }]),
    });
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

  it('refuses a checkpoint with any flipped byte, naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ckpt-'));
    const file = path.join(dir, 'c.ckpt');
    writeCheckpoint(file, { epoch: 1, batchesDone: 0, state: {}, weights: await snapshot(modelWeightTensors(tinyNet(1).layersModel)), optimizer: [] });
    const good = fs.readFileSync(file);
    // A flip in the header, in the first tensor and in the last byte: each changes what would load.
    for (const at of [60, Math.floor(good.length / 2), good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x01;
      fs.writeFileSync(file, bad);
      expect(() => readCheckpoint(file), `byte ${at}`).toThrow(new RegExp(`${file}.*corrupted`));
    }
  });

  it('resumes from the checkpoint before, then the best, when the latest is damaged, and says so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-ckpt-'));
    const paths = { last: path.join(dir, 'last.ckpt'), best: path.join(dir, 'best.ckpt') };
    const weights = await snapshot(modelWeightTensors(tinyNet(1).layersModel));
    writeCheckpoint(paths.last, { epoch: 1, batchesDone: 0, state: {}, weights, optimizer: [] });
    copyCheckpoint(paths.last, paths.best);
    writeCheckpoint(paths.last, { epoch: 2, batchesDone: 0, state: {}, weights, optimizer: [] });
    writeCheckpoint(paths.last, { epoch: 3, batchesDone: 0, state: {}, weights, optimizer: [] });
    expect(fs.readdirSync(dir).sort()).toEqual(['best.ckpt', 'last.ckpt', 'last.ckpt.prev']);
    expect(readResumeCheckpoint(paths)).toMatchObject({ file: paths.last, note: null, checkpoint: { epoch: 3 } });

    const truncate = (file: string) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 200));
    truncate(paths.last);
    const fromPrev = readResumeCheckpoint(paths);
    expect(fromPrev.checkpoint.epoch).toBe(2);
    expect(fromPrev.note).toMatch(/last\.ckpt\.prev \(epoch 2\) instead of the latest.*last\.ckpt is truncated/);

    truncate(previousCheckpoint(paths.last));
    const fromBest = readResumeCheckpoint(paths);
    expect([fromBest.file, fromBest.checkpoint.epoch]).toEqual([paths.best, 1]);
    expect(fromBest.note).toMatch(/best\.ckpt \(epoch 1\)/);

    truncate(paths.best);
    expect(() => readResumeCheckpoint(paths)).toThrow(/no readable checkpoint to resume from/);
  });
});
