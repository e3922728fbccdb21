// How far FGSM and PGD-20 move each block's features: per exit, the mean over images of
// ‖f(x) − f(x′)‖₂ (and of ‖f(x)‖₂, the scale to read it against). Both attacks aim at the average
// of the exits' losses, the way the paper's method trains.
import * as tf from '@tensorflow/tfjs';
import type { FeatureDistanceReport } from '../../../src-shared/feature-distance';
import { pgd } from '../attacks/pgd';
import type { MultiExitNet } from '../model/multi-exit';
import type { ImageSet } from './batch-attack';

export interface FeatureDistanceOptions {
  /** L∞ radius in [0,1] pixel units. */
  eps: number;
  batchSize: number;
  seed: number;
  onBatch?: (batch: number, batches: number) => void;
}

type Features = (x: tf.Tensor4D) => tf.Tensor4D[];

/** Per image of the batch, ‖a − b‖₂ over all of a feature map's values; summed over the batch. */
const summedNorm = (t: tf.Tensor4D): tf.Scalar => tf.sum(tf.norm(tf.reshape(t, [t.shape[0], -1]), 'euclidean', 1));

export async function featureDistances(
  net: MultiExitNet, features: Features, images: ImageSet, opts: FeatureDistanceOptions,
): Promise<FeatureDistanceReport['attacks']> {
  const exits = net.exitCount;
  const sums = { fgsm: new Float64Array(exits), pgd20: new Float64Array(exits), clean: new Float64Array(exits) };
  const size = images.shape[0] * images.shape[1] * images.shape[2];
  const batches = Math.ceil(images.count / opts.batchSize);
  const target = { kind: 'average' } as const;
  for (let b = 0; b < batches; b++) {
    const start = b * opts.batchSize;
    const n = Math.min(opts.batchSize, images.count - start);
    const per = tf.tidy(() => {
      const x = tf.tensor4d(images.x.subarray(start * size, (start + n) * size), [n, images.shape[0], images.shape[1], images.shape[2]]);
      const y = tf.tensor1d(images.y.subarray(start, start + n), 'int32');
      const seed = opts.seed + b;
      const xFgsm = pgd(net, x, y, { eps: opts.eps, alpha: opts.eps, steps: 1, restarts: 1, randomStart: false, target, seed });
      const xPgd = pgd(net, x, y, { eps: opts.eps, alpha: opts.eps / 4, steps: 20, restarts: 1, randomStart: true, target, seed });
      const clean = features(x);
      const fgsm = features(xFgsm);
      const pgd20 = features(xPgd);
      return tf.stack(clean.flatMap((c, e) => [summedNorm(c), summedNorm(tf.sub(c, fgsm[e])), summedNorm(tf.sub(c, pgd20[e]))]));
    });
    const v = await per.data();
    per.dispose();
    for (let e = 0; e < exits; e++) {
      sums.clean[e] += v[3 * e];
      sums.fgsm[e] += v[3 * e + 1];
      sums.pgd20[e] += v[3 * e + 2];
    }
    opts.onBatch?.(b + 1, batches);
  }
  const mean = (s: Float64Array) => Array.from(s, (t) => t / images.count);
  return (['fgsm', 'pgd20'] as const).map((attack) => ({ attack, distance: mean(sums[attack]), cleanNorm: mean(sums.clean) }));
}
