// What the evaluation attacks optimise on a multi-exit network. An attack objective is a set of
// exits ("heads"): one exit, or all of them for the `average` target. Its loss is the mean of a
// per-head loss (cross-entropy, DLR, CW margin, targeted DLR), and it counts as fooled only when
// every head misclassifies, so that a point left robust for some head stays in the attack's pool.
import * as tf from '@tensorflow/tfjs';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';

/** A target the loss of one attack run can be computed for (max-average is a set of these). */
export type SingleTarget = Exclude<ExitTarget, { kind: 'max-average' }>;

/** Per-head losses (to maximise). `dlr-targeted` and `ce-targeted` need a target class per sample. */
export type LossKind = 'ce' | 'dlr' | 'cw' | 'dlr-targeted' | 'ce-targeted';

export function headsOf(target: SingleTarget, exitCount: number): number[] {
  if (target.kind === 'exit') {
    if (!Number.isInteger(target.index) || target.index < 0 || target.index >= exitCount) {
      throw new Error(`exit ${target.index + 1} does not exist (the model has ${exitCount} exit(s))`);
    }
    return [target.index];
  }
  return Array.from({ length: exitCount }, (_, i) => i);
}

/** Logits of the heads of a target, in inference mode unless asked otherwise. */
export function headLogits(net: MultiExitNet, x: tf.Tensor4D, target: SingleTarget, training = false): tf.Tensor2D[] {
  const all = net.forward(x, training);
  return headsOf(target, net.exitCount).map((i) => all[i]);
}

const oneHotOf = (indices: tf.Tensor1D, depth: number) => tf.oneHot(tf.cast(indices, 'int32'), depth);

/** Value of the logits at one-hot positions: differentiable, unlike tf.topk's values. */
const pick = (logits: tf.Tensor2D, mask: tf.Tensor) => tf.sum(tf.mul(logits, mask), -1) as tf.Tensor1D;

/**
 * One-hot masks [n, k, classes] of the k largest logits. TopK has no gradient in tfjs; the masks are
 * constants of the loss anyway, so they are made under a custom gradient of zero.
 */
const topMasks = (logits: tf.Tensor2D, k: number): tf.Tensor3D =>
  tf.customGrad((...inputs) => {
    const z = inputs[0] as tf.Tensor;
    return { value: tf.oneHot(tf.topk(z, k, true).indices, z.shape[1]!).toFloat(), gradFunc: () => tf.zerosLike(z) };
  })(logits) as tf.Tensor3D;

/** Logits sorted in decreasing order, the first k columns, each as a differentiable 1-D tensor. */
function topValues(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const masks = topMasks(logits, k);
  return Array.from({ length: k }, (_, j) => pick(logits, tf.squeeze(tf.slice(masks, [0, j, 0], [-1, 1, -1]), [1])));
}

/** Largest logit among the classes other than y. */
function maxOther(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  const hot = oneHotOf(y, logits.shape[1]);
  // Subtracting a large constant at y keeps the gradient flowing to the arg-max of the others.
  return tf.max(tf.sub(logits, tf.mul(hot, 1e9)), -1) as tf.Tensor1D;
}

/** z_y − max_{k≠y} z_k: positive while the head classifies correctly. */
function margin(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.sub(pick(logits, oneHotOf(y, logits.shape[1])), maxOther(logits, y)) as tf.Tensor1D;
}

/**
 * log-softmax that can be differentiated twice. tf.logSoftmax's gradient reads the softmax from its
 * saved output, which tfjs makes inside the op, out of the tape's sight: a gradient of that gradient
 * then treats the softmax as a constant (and loses the cross-entropy's curvature in the logits).
 * This one saves its input and recomputes the softmax from it with taped ops.
 */
const logSoftmaxTwiceDifferentiable = (logits: tf.Tensor2D): tf.Tensor2D =>
  tf.customGrad((...args) => {
    const z = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([z]);
    return {
      value: tf.logSoftmax(z),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), tf.softmax(saved[0]))),
    };
  })(logits) as tf.Tensor2D;

/** Per-sample cross-entropy; `twiceDifferentiable` for a loss whose input gradient is itself differentiated. */
export function crossEntropy(logits: tf.Tensor2D, y: tf.Tensor1D, twiceDifferentiable = false): tf.Tensor1D {
  const logP = twiceDifferentiable ? logSoftmaxTwiceDifferentiable(logits) : (tf.logSoftmax(logits) as tf.Tensor2D);
  return tf.neg(pick(logP, oneHotOf(y, logits.shape[1]))) as tf.Tensor1D;
}

/** Difference of logits ratio (Croce & Hein 2020): −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3). */
function dlr(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  if (logits.shape[1] < 3) throw new Error('the DLR loss needs at least 3 classes');
  const [z1, , z3] = topValues(logits, 3);
  return tf.div(tf.neg(margin(logits, y)), tf.add(tf.sub(z1, z3), 1e-12)) as tf.Tensor1D;
}

/** Targeted DLR: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2). */
function dlrTargeted(logits: tf.Tensor2D, y: tf.Tensor1D, t: tf.Tensor1D): tf.Tensor1D {
  if (logits.shape[1] < 4) throw new Error('the targeted DLR loss needs at least 4 classes');
  const [z1, , z3, z4] = topValues(logits, 4);
  const classes = logits.shape[1];
  const num = tf.sub(pick(logits, oneHotOf(y, classes)), pick(logits, oneHotOf(t, classes)));
  return tf.div(tf.neg(num), tf.add(tf.sub(z1, tf.mul(0.5, tf.add(z3, z4))), 1e-12)) as tf.Tensor1D;
}

/** CW margin loss (Carlini & Wagner 2017) with confidence κ: min(max_{k≠y} z_k − z_y, κ). */
export function cwLoss(logits: tf.Tensor2D, y: tf.Tensor1D, kappa = 0): tf.Tensor1D {
  return tf.minimum(tf.neg(margin(logits, y)), kappa) as tf.Tensor1D;
}

function headLoss(kind: LossKind, logits: tf.Tensor2D, y: tf.Tensor1D, yTarget?: tf.Tensor1D): tf.Tensor1D {
  switch (kind) {
    case 'ce':
      return crossEntropy(logits, y);
    case 'dlr':
      return dlr(logits, y);
    case 'cw':
      return cwLoss(logits, y);
    case 'dlr-targeted':
      if (!yTarget) throw new Error('dlr-targeted needs target classes');
      return dlrTargeted(logits, y, yTarget);
    case 'ce-targeted':
      if (!yTarget) throw new Error('ce-targeted needs target classes');
      return tf.neg(crossEntropy(logits, yTarget)) as tf.Tensor1D;
  }
}

/** Per-sample loss of an objective: the mean over its heads. */
export function objectiveLossOf(heads: tf.Tensor2D[], kind: LossKind, y: tf.Tensor1D, yTarget?: tf.Tensor1D): tf.Tensor1D {
  const losses = heads.map((l) => headLoss(kind, l, y, yTarget));
  return (losses.length === 1 ? losses[0] : tf.div(tf.addN(losses), losses.length)) as tf.Tensor1D;
}

/** 1 where every head misclassifies (float32, per sample). */
export function allHeadsWrong(heads: tf.Tensor2D[], y: tf.Tensor1D): tf.Tensor1D {
  const wrong = heads.map((l) => tf.cast(tf.notEqual(tf.argMax(l, 1), tf.cast(y, 'int32')), 'float32'));
  return (wrong.length === 1 ? wrong[0] : tf.min(tf.stack(wrong), 0)) as tf.Tensor1D;
}

/** Largest margin over the heads: ≤ 0 exactly when every head is fooled (Square's score). */
export function objectiveMargin(heads: tf.Tensor2D[], y: tf.Tensor1D): tf.Tensor1D {
  const margins = heads.map((l) => margin(l, y));
  return (margins.length === 1 ? margins[0] : tf.max(tf.stack(margins), 0)) as tf.Tensor1D;
}

export interface LossAndGradient {
  grad: tf.Tensor4D;
  /** Per-sample loss and fooled flag (1: every head wrong) at the same point, from the same forward pass. */
  loss: tf.Tensor1D;
  fooled: tf.Tensor1D;
}

/**
 * One forward and backward pass: the objective's loss, its input gradient and whether the point
 * fools it. Training-time attacks pass `training` so that batch norm uses batch statistics.
 */
export function lossAndGradient(
  net: MultiExitNet,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  target: SingleTarget,
  kind: LossKind,
  yTarget?: tf.Tensor1D,
  training = false,
): LossAndGradient {
  let loss: tf.Tensor1D | null = null;
  let fooled: tf.Tensor1D | null = null;
  const grad = tf.grad((xi: tf.Tensor) => {
    const heads = headLogits(net, xi as tf.Tensor4D, target, training);
    const perSample = objectiveLossOf(heads, kind, y, yTarget);
    loss = tf.keep(perSample.clone());
    fooled = tf.keep(allHeadsWrong(heads, y));
    return tf.sum(perSample);
  })(x) as tf.Tensor4D;
  return { grad, loss: loss!, fooled: fooled! };
}
