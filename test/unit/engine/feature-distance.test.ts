// The features each exit's head reads and how far attacks move them: shapes of the coarsest scale
// at the end of each block, no distance for a vanishing radius, more for a larger one.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { exitFeatures } from '../../../src-main/engine/model/exit-features';
import { featureDistances } from '../../../src-main/engine/eval/feature-distance';
import { tinyNet, useCpu } from '../../helpers/tiny-net';

const normalisation = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };

function images(n: number) {
  const x = new Float32Array(n * 32 * 32 * 3).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  return { x, y: Int32Array.from({ length: n }, (_, i) => i % 3), count: n, shape: [32, 32, 3] as [number, number, number] };
}

describe('exit features', () => {
  beforeAll(useCpu);

  it('gives, per exit, the block output its head reads: the coarsest scale, with the channels its head takes', () => {
    const net = tinyNet(3);
    const f = exitFeatures(net, normalisation);
    const maps = f.features(tf.ones([2, 32, 32, 3]) as tf.Tensor4D);
    expect(maps).toHaveLength(3);
    // The coarsest of the 2 scales, with the channels each head's first convolution takes.
    const headInputs = net.layersModel.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.input as tf.SymbolicTensor).shape.slice(1));
    for (const m of maps) {
      expect(m.shape.slice(0, 3)).toEqual([2, 16, 16]);
      expect(headInputs).toContainEqual(m.shape.slice(1));
    }
    tf.dispose(maps);
    f.dispose();
    net.dispose();
  });

  it('measures no movement for a vanishing radius and more for a larger one, FGSM and PGD-20, leaking no tensor', async () => {
    const net = tinyNet(4);
    const f = exitFeatures(net, normalisation);
    const set = images(2);
    const before = tf.memory().numTensors;
    const tiny = await featureDistances(net, f.features, set, { eps: 1e-7, batchSize: 2, seed: 1 });
    const large = await featureDistances(net, f.features, set, { eps: 16 / 255, batchSize: 2, seed: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(tiny.map((a) => a.attack)).toEqual(['fgsm', 'pgd20']);
    for (const [k, a] of tiny.entries()) {
      expect(a.distance).toHaveLength(3);
      for (let e = 0; e < 3; e++) {
        expect(a.cleanNorm[e]).toBeGreaterThan(0);
        expect(a.distance[e]).toBeLessThan(1e-3 * a.cleanNorm[e]);
        expect(large[k].distance[e]).toBeGreaterThan(100 * a.distance[e]);
      }
    }
    f.dispose();
    net.dispose();
  }, 120_000);
});
