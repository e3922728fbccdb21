// GradAlign (Andriushchenko & Flammarion, "Understanding and Improving Fast Adversarial Training",
// NeurIPS 2020): FGSM training plus a penalty on the misalignment of the input gradients at x and
// at a random point x + η of the ε-ball, which keeps the loss locally linear and so prevents
// catastrophic overfitting. The penalty is differentiated with respect to the weights, through the
// input gradient at x + η: double backprop (see model/lean-layers.ts for the batch norm's path).
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../model/multi-exit';
import { randomStart } from '../../attacks/ball';
import { mixSeed } from '../../../random';
import type { TrainingMethod } from './types';
import { fgsmRandomStart } from './fgsm-rs';
import { exitsCrossEntropy, multiExitLoss } from './penalty';

/** Tags the draw of η apart from the FGSM random start's (which uses mixSeed(seed, 0)). */
const ETA_STREAM = 0x9a;

/**
 * ∇ₓ of the training loss's data term (the exits' summed mean cross-entropies, as fgsm-rs trains on)
 * with batch norm on batch statistics, as in training. `twiceDifferentiable` builds it so that it
 * can itself be differentiated with respect to the weights.
 */
export function lossInputGradient(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, twiceDifferentiable: boolean): tf.Tensor4D {
  const loss = (xi: tf.Tensor) => exitsCrossEntropy(net.forward(xi as tf.Tensor4D, true, { twiceDifferentiable }), y, twiceDifferentiable);
  return tf.grad(loss)(x) as tf.Tensor4D;
}

/**
 * 1 where a row's squared norm is not zero, else 0, as a constant of any gradient: comparisons have
 * no gradient in tfjs, and a mask is constant almost everywhere anyway.
 */
const nonZeroRows = (squaredNorms: tf.Tensor1D): tf.Tensor1D =>
  tf.customGrad((...inputs) => {
    const n = inputs[0] as tf.Tensor;
    return { value: tf.cast(tf.greater(n, 0), 'float32'), gradFunc: () => tf.zerosLike(n) };
  })(squaredNorms) as tf.Tensor1D;

/**
 * 1 − cos(g1, g2) per example over the flattened gradients, averaged over the batch. As in the
 * authors' train.py, examples where either gradient is exactly zero are left out of the mean (0
 * when all are); their rows never divide by zero, so the penalty's own gradient stays finite.
 */
export function misalignment(g1: tf.Tensor4D, g2: tf.Tensor4D): tf.Scalar {
  const axes = [1, 2, 3];
  const n1 = tf.sum(tf.square(g1), axes) as tf.Tensor1D;
  const n2 = tf.sum(tf.square(g2), axes) as tf.Tensor1D;
  const kept = tf.mul(nonZeroRows(n1), nonZeroRows(n2));
  // A left-out row has n = 0 there, so its norm becomes √1 and its (masked) cosine 0/1.
  const norm = (n: tf.Tensor1D) => tf.sqrt(tf.add(n, tf.sub(1, kept)));
  const cos = tf.mul(tf.div(tf.sum(tf.mul(g1, g2), axes), tf.mul(norm(n1), norm(n2))), kept);
  const count = tf.sum(kept);
  return tf.div(tf.sub(count, tf.sum(cos)), tf.maximum(count, 1)) as tf.Scalar;
}

/**
 * GradAlign's penalty on a batch, 1 − cos(∇ₓℓ(x), ∇ₓℓ(x + η)) (see `misalignment`), given ∇ₓℓ(x)
 * as a constant, η ~ U(−ε, ε)ᵈ drawn from `seed`, x + η clipped to [0, 1]; differentiable in the
 * weights.
 */
export function alignmentPenalty(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, clean: tf.Tensor4D, eps: number, seed: number): tf.Scalar {
  const noisy = randomStart(x, eps, mixSeed(seed, ETA_STREAM));
  return misalignment(clean, lossInputGradient(net, noisy, y, true));
}

/**
 * A zero whose gradient with respect to `v` is `gradient`: adds a weight gradient computed
 * elsewhere into the trainer's.
 */
const withGradient = (v: tf.Variable, gradient: tf.Tensor): tf.Scalar =>
  tf.customGrad(() => ({ value: tf.scalar(0), gradFunc: (dy: tf.Tensor) => tf.mul(dy, gradient) }))(v) as tf.Scalar;

/**
 * FGSM from a uniform random start with α = 1.25·ε (fgsm-rs's step, so the two compare), trained on
 * the same multi-exit loss (Σ exits' cross-entropy + Σ λ_i ‖W_fc,i‖²), plus
 *   λ_ga · (1 − cos(∇ₓℓ(x, y), ∇ₓℓ(x + η, y))),  η ~ U(−ε, ε)ᵈ,
 * with ℓ that same data term (a cosine does not see its scale: the average over exits the FGSM step
 * climbs gives the same), batch norm on batch statistics throughout. x + η is clipped to [0, 1] like
 * every point of the threat model here (the authors' get_input_grad feeds x + η unclipped; that only
 * changes pixels within ε of 0 or 1). ∇ₓℓ(x) is a constant of the penalty (their code detaches it
 * too); ∇ₓℓ(x + η) is differentiated through. The authors' runs use a zero FGSM start, whose
 * gradient is ∇ₓℓ(x) for free; from a random start it takes one more forward and backward pass.
 *
 * The penalty and its weight gradient are computed while crafting, by a backward pass of their own,
 * and handed to the trainer's gradient with the loss: the same update as one backward pass through
 * both terms, but the double backprop's tape (about three times a training step's) and the
 * training pass's are never held at once.
 *
 * λ_ga = 0 skips the penalty: exactly fgsm-rs's step. Unlike fgsm-rs, early stopping is not on by
 * default: avoiding it is GradAlign's point.
 */
export function gradAlign(lambda: number): TrainingMethod {
  // The penalty of the last crafted batch and its weight gradient, for the loss on that batch.
  let pending: { inputs: tf.Tensor4D; penalty: tf.Scalar; gradients: tf.NamedTensorMap } | null = null;
  const release = () => {
    if (pending) tf.dispose([pending.penalty, Object.values(pending.gradients)]);
    pending = null;
  };
  return {
    craft: (ctx, x, y) => {
      const crafted = fgsmRandomStart.craft(ctx, x, y);
      if (lambda > 0) {
        release();
        const clean = tf.tidy(() => lossInputGradient(ctx.net, x, y, false));
        const { value, grads } = tf.variableGrads(
          () => tf.mul(lambda, alignmentPenalty(ctx.net, x, y, clean, ctx.eps, ctx.seed)) as tf.Scalar, ctx.net.trainableVariables,
        );
        clean.dispose();
        pending = { inputs: crafted, penalty: value, gradients: grads };
      }
      return crafted;
    },
    loss: (ctx, x, crafted, y) => {
      if (lambda === 0) return multiExitLoss(ctx.net, crafted, y, ctx.lambda);
      if (!pending || pending.inputs !== crafted) throw new Error('gradalign: loss() needs the inputs its craft() returned (with their penalty)');
      const { gradients } = pending;
      const out = multiExitLoss(ctx.net, crafted, y, ctx.lambda);
      const handed = ctx.net.trainableVariables.filter((v) => gradients[v.name]).map((v) => withGradient(v, gradients[v.name]));
      return { loss: tf.addN([out.loss, pending.penalty, ...handed]) as tf.Scalar, logits: out.logits };
    },
    /**
     * fgsm-rs's 6; then the clean gradient (3) and, at x + η, a forward and backward pass (3) with
     * the backward through both of them on top (6).
     */
    forwardEquivalents: () => (lambda > 0 ? 18 : 6),
    defaultAlpha: (eps) => 1.25 * eps,
    dispose: release,
  };
}
