// CW-∞: PGD on the Carlini–Wagner margin loss min(max_{k≠y} z_k − z_y, κ) (Carlini & Wagner 2017),
// the L∞ variant robustness papers report next to PGD (30+ steps). Random start, sign steps,
// projection onto the ε-ball and the image box; any iterate that fools the objective is kept.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import { projectLinf } from './loss';
import { lossAndGradient, type LossKind, type SingleTarget } from './objective';
import type { AttackResult } from './apgd';
import { Rng } from './rng';

export interface SignPgdOptions {
  eps: number;
  alpha: number;
  steps: number;
  restarts: number;
  target: SingleTarget;
  seed?: number;
}

/** L∞ PGD with random start on any per-sample objective loss; keeps fooling iterates. */
export async function signPgd(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, loss: LossKind, opts: SignPgdOptions): Promise<AttackResult> {
  const n = x.shape[0];
  const rng = new Rng(opts.seed ?? 0);
  const fooled = new Uint8Array(n);
  let found = x.clone();
  let last: tf.Tensor4D | null = null;
  const keep = (flags: Float32Array | Int32Array | Uint8Array, point: tf.Tensor4D) => {
    const fresh = Uint8Array.from(flags, (v, i) => (v > 0.5 && !fooled[i] ? 1 : 0));
    if (!fresh.some((f) => f)) return;
    fresh.forEach((f, i) => (fooled[i] |= f));
    const next = tf.tidy(() => {
      const m = tf.tensor(Float32Array.from(fresh), [n, 1, 1, 1]);
      return tf.add(tf.mul(point, m), tf.mul(found, tf.sub(1, m))) as tf.Tensor4D;
    });
    found.dispose();
    found = next;
  };
  for (let r = 0; r < opts.restarts && fooled.some((f) => !f); r++) {
    let xAdv = tf.tidy(() => tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -opts.eps, opts.eps, 'float32', rng.seed())), 0, 1) as tf.Tensor4D);
    for (let k = 0; k <= opts.steps; k++) {
      const out = lossAndGradient(net, xAdv, y, opts.target, loss);
      keep(await out.fooled.data() as Float32Array, xAdv);
      out.loss.dispose();
      out.fooled.dispose();
      if (k === opts.steps) {
        out.grad.dispose();
        break;
      }
      const next = tf.tidy(() => projectLinf(tf.add(xAdv, tf.mul(opts.alpha, tf.sign(out.grad))) as tf.Tensor4D, x, opts.eps));
      out.grad.dispose();
      xAdv.dispose();
      xAdv = next;
    }
    last?.dispose();
    last = xAdv;
  }
  // Samples never fooled return the last restart's final iterate.
  const unfooled = Uint8Array.from(fooled, (f) => 1 - f);
  const xAdv = last
    ? tf.tidy(() => {
        const m = tf.tensor(Float32Array.from(unfooled), [n, 1, 1, 1]);
        return tf.add(tf.mul(last!, m), tf.mul(found, tf.sub(1, m))) as tf.Tensor4D;
      })
    : found.clone();
  tf.dispose([found, last ?? []]);
  return { xAdv, fooled };
}

export type CwOptions = SignPgdOptions;

export function cwInf(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: CwOptions): Promise<AttackResult> {
  return signPgd(net, x, y, 'cw', opts);
}
