// Row (per-sample) bookkeeping of attacks on a batch: take the rows still worth attacking, and merge
// per-sample choices between two batches of candidates.
import * as tf from '@tensorflow/tfjs';

/** A 0/1 mask broadcastable against a batch of `shape` (one flag per sample). */
function column(flags: tf.Tensor1D | ArrayLike<number>, shape: number[]): tf.Tensor {
  const t = flags instanceof tf.Tensor ? flags.toFloat() : tf.tensor1d(Float32Array.from(flags as ArrayLike<number>));
  return tf.reshape(t, [shape[0], ...shape.slice(1).map(() => 1)]);
}

/** Per sample: the row of `chosen` where the flag is set (> 0), else the row of `other`. */
export function mergeRows<T extends tf.Tensor>(flags: tf.Tensor1D | ArrayLike<number>, chosen: T, other: T): T {
  return tf.tidy(() => tf.where(tf.cast(tf.greater(column(flags, chosen.shape), 0), 'bool').broadcastTo(chosen.shape), chosen, other) as T);
}

/** As `mergeRows`, disposing `prev` and returning it unchanged when no flag is set. */
export function replaceRows(prev: tf.Tensor4D, next: tf.Tensor4D, flags: ArrayLike<number>): tf.Tensor4D {
  if (!Array.from(flags).some((f) => f > 0)) return prev;
  const out = mergeRows(flags, next, prev);
  prev.dispose();
  return out;
}

/** The listed rows of each tensor, as new tensors. */
export function gatherRows<T extends tf.Tensor[]>(rows: number[], ...tensors: T): T {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return tensors.map((t) => tf.gather(t, idx)) as T;
  });
}

/**
 * A batch of `n` rows holding row j of `sub` at position rows[j] (elsewhere: row 0 of `sub`, to be
 * masked by the caller), so that a result on a subset lines up with the full batch again.
 */
export function spreadRows(sub: tf.Tensor4D, rows: number[], n: number): tf.Tensor4D {
  const source = new Int32Array(n);
  rows.forEach((r, j) => (source[r] = j));
  return tf.tidy(() => tf.gather(sub, tf.tensor1d(source, 'int32')) as tf.Tensor4D);
}
