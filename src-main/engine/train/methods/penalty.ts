// The paper's regulariser: Σ_i λ_i ‖W_fc,i‖², which keeps deep exits' classifier weights from
// outgrowing the shallow exits' (the signature of catastrophic overfitting in multi-exit nets).
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../model/multi-exit';
import { exitLosses } from '../../attacks/loss';

export function fcPenalty(net: MultiExitNet, lambda: number[]): tf.Scalar {
  return tf.addN(net.fcKernels.map((k, i) => tf.mul(lambda[i] ?? 0, tf.sum(tf.square(k.read()))))) as tf.Scalar;
}

/** Sum over exits of the mean cross-entropy, plus the λ penalty: the multi-exit training loss. */
export function multiExitLoss(net: MultiExitNet, inputs: tf.Tensor4D, y: tf.Tensor1D, lambda: number[]): { loss: tf.Scalar; logits: tf.Tensor2D[] } {
  const logits = net.forward(inputs, true);
  const ce = tf.addN(exitLosses(logits, y).map((l) => tf.mean(l))) as tf.Scalar;
  return { loss: tf.add(ce, fcPenalty(net, lambda)) as tf.Scalar, logits };
}
