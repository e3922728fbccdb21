// The paper's regulariser: Σ_i λ_i ‖W_fc,i‖², which keeps deep exits' classifier weights from
// outgrowing the shallow exits' (the signature of catastrophic overfitting in multi-exit nets).
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../model/multi-exit';
import { exitLosses } from '../../attacks/loss';

export function fcPenalty(net: MultiExitNet, lambda: number[]): tf.Scalar {
  return tf.addN(net.fcKernels.map((k, i) => tf.mul(lambda[i] ?? 0, tf.sum(tf.square(k.read()))))) as tf.Scalar;
}

/**
 * Sum over exits of the mean cross-entropy: the data term of the multi-exit training loss;
 * `twiceDifferentiable` builds the same value from ops whose gradient can be differentiated again.
 */
export function exitsCrossEntropy(logits: tf.Tensor2D[], y: tf.Tensor1D, twiceDifferentiable = false): tf.Scalar {
  return tf.addN(exitLosses(logits, y, twiceDifferentiable).map((l) => tf.mean(l))) as tf.Scalar;
}

/** Sum over exits of the mean cross-entropy, plus the λ penalty: the multi-exit training loss. */
export function multiExitLoss(net: MultiExitNet, inputs: tf.Tensor4D, y: tf.Tensor1D, lambda: number[]): { loss: tf.Scalar; logits: tf.Tensor2D[] } {
  const logits = net.forward(inputs, true);
  return { loss: tf.add(exitsCrossEntropy(logits, y), fcPenalty(net, lambda)) as tf.Scalar, logits };
}
