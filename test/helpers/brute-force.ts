// Exhaustive search over the L∞ ball for inputs with a handful of pixels: every corner of the ball
// (clipped to the image box), or a regular grid of it. For a network whose exits are linear in the
// input, the corners are exact: the set of misclassified points of a linear classifier is a union
// of half-spaces, and a box meets a half-space exactly when one of its corners does. This is the
// reference the attacks are checked against in test/unit/attacks/brute-force.test.ts.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../src-main/engine/model/multi-exit';
import { allHeadsWrong, headLogits, objectiveLossOf, type LossKind, type SingleTarget } from '../../src-main/engine/attacks/objective';

export interface BruteForceOptions {
  eps: number;
  target: SingleTarget;
  /** Points per coordinate: 2 = the corners; more adds evenly spaced inner points. */
  pointsPerAxis: number;
  /** Loss whose maximum over the searched points is reported. */
  loss?: LossKind;
  /** Points evaluated per forward pass. */
  chunk?: number;
}

export interface BruteForceResult {
  /** 1 where some searched point fools every head of the objective. */
  fooled: Uint8Array;
  /** Largest loss over the searched points, per sample. */
  maxLoss: Float32Array;
}

const MAX_BRUTE_FORCE_POINTS = 1 << 20;

export async function bruteForce(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: BruteForceOptions): Promise<BruteForceResult> {
  const [n, ...shape] = x.shape;
  const dim = shape.reduce((a, b) => a * b, 1);
  const g = opts.pointsPerAxis;
  if (g < 2) throw new Error('brute force needs at least 2 points per axis');
  const total = g ** dim;
  if (total > MAX_BRUTE_FORCE_POINTS) throw new Error(`brute force over ${g}^${dim} points is not feasible`);
  const chunk = opts.chunk ?? 4096;
  const x0 = (await x.data()) as Float32Array;
  const labels = await y.data();
  const fooled = new Uint8Array(n);
  const maxLoss = new Float32Array(n).fill(-Infinity);
  for (let s = 0; s < n; s++) {
    for (let start = 0; start < total; start += chunk) {
      const count = Math.min(chunk, total - start);
      const pts = new Float32Array(count * dim);
      for (let p = 0; p < count; p++) {
        let code = start + p;
        for (let j = 0; j < dim; j++) {
          const level = code % g;
          code = Math.floor(code / g);
          const v = x0[s * dim + j] + opts.eps * (-1 + (2 * level) / (g - 1));
          pts[p * dim + j] = Math.min(1, Math.max(0, v));
        }
      }
      const [wrongT, lossT] = tf.tidy(() => {
        const batch = tf.tensor(pts, [count, ...shape]) as tf.Tensor4D;
        const ys = tf.fill([count], labels[s], 'int32') as tf.Tensor1D;
        const heads = headLogits(net, batch, opts.target);
        return [tf.max(allHeadsWrong(heads, ys)), tf.max(objectiveLossOf(heads, opts.loss ?? 'ce', ys))];
      });
      const [wrong, loss] = await Promise.all([wrongT.data(), lossT.data()]);
      tf.dispose([wrongT, lossT]);
      if (wrong[0] > 0.5) fooled[s] = 1;
      maxLoss[s] = Math.max(maxLoss[s], loss[0]);
    }
  }
  return { fooled, maxLoss };
}
