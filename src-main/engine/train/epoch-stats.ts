// Running per-exit sums over an epoch's batches. Plain numbers, so a checkpoint written in the
// middle of an epoch carries them and a resumed epoch reports what an uninterrupted one would.
import * as tf from '@tensorflow/tfjs';
import { exitLosses } from '../attacks/loss';

export interface ExitSums { correct: number[]; loss: number[]; seen: number }

export interface EpochSums { clean: ExitSums; adv: ExitSums; images: number; seconds: number }

export const emptySums = (exits: number): ExitSums => ({ correct: new Array(exits).fill(0), loss: new Array(exits).fill(0), seen: 0 });
export const emptyEpochSums = (exits: number): EpochSums => ({ clean: emptySums(exits), adv: emptySums(exits), images: 0, seconds: 0 });

/** Adds one batch's per-exit correct counts and summed cross-entropy to `sums`. */
export async function accumulate(sums: ExitSums, logits: tf.Tensor2D[], y: tf.Tensor1D): Promise<void> {
  const stacked = tf.tidy(() => {
    const labels = tf.cast(y, 'int32');
    const correct = logits.map((l) => tf.sum(tf.cast(tf.equal(tf.argMax(l, 1), labels), 'float32')));
    const loss = exitLosses(logits, y).map((l) => tf.sum(l));
    return tf.stack([tf.stack(correct), tf.stack(loss)]);
  });
  const values = await stacked.data();
  stacked.dispose();
  const n = logits.length;
  for (let i = 0; i < n; i++) {
    sums.correct[i] += values[i];
    sums.loss[i] += values[n + i];
  }
  sums.seen += y.shape[0];
}

export const rates = (sums: ExitSums) => ({
  acc: sums.correct.map((c) => (sums.seen ? c / sums.seen : 0)),
  loss: sums.loss.map((l) => (sums.seen ? l / sums.seen : 0)),
});
