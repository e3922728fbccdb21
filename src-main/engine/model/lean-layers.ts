// Faster `call`s for tfjs-layers layers the MSDNet is made of (Conv2D, BatchNormalization), and for
// double backprop (a gradient of a gradient, as gradalign's penalty needs) gradients that can be
// differentiated again (BatchNormalization, ReLU). Only the instances' `call` changes: classes,
// configs and weights stay standard, so saved and exported models load anywhere as plain layers.
import * as tf from '@tensorflow/tfjs';
import { BN_TRAINING, BN_TRAINING_GRAD } from '../kernels/batch-norm-training';

type CallArgs = Parameters<tf.layers.Layer['call']>;

const oneTensor = (inputs: CallArgs[0]): tf.Tensor4D => (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;

/**
 * The call option (passed with `training: true` to the model's `apply`, which hands it to every
 * layer) that asks for a forward pass autodiff can differentiate twice, and economically: the batch
 * norm then gives its op the twice-differentiable gradient (`batchNormTraining`), the ReLU its lean
 * one. Only a method that needs double backprop sets it; every other pass keeps the plain ones.
 */
export const TWICE_DIFFERENTIABLE = 'twiceDifferentiable';

/**
 * tfjs-layers runs every Conv2D through the fused conv op, whose custom gradient computes the filter
 * gradient even when only the input gradient is wanted: crafting an FGSM or PGD example would pay
 * for a filter gradient per convolution per step (about a sixth of an FGSM training step on wasm).
 * The plain conv op registers one gradient per input and tfjs computes only those it needs.
 * For convolutions without bias, 'same' padding and no dilation, as MSDNet's are.
 */
export function withLazyConvGradient(conv: tf.layers.Layer, stride: number): void {
  conv.call = (inputs) => tf.tidy(() => tf.conv2d(oneTensor(inputs), conv.weights[0].read() as tf.Tensor4D, stride, 'same'));
}

/**
 * Training-mode batch norm as one op with a hand-written gradient. tfjs-layers composes it from
 * `moments` and `batchNorm`, and autodiff through that graph makes about fourteen full-size passes
 * over the activations; the closed form below makes seven with tf ops, four with the wasm kernels
 * of kernels/batch-norm-training.ts where they are registered:
 *   dx = γ·r·(dy − mean(dy) − x̂·mean(dy·x̂)),  x̂ = (x − μ)·r,  r = 1/√(σ² + ε).
 * Statistics are the biased batch variance, as tfjs-layers uses for both normalising and the moving
 * averages, so results match the stock layer. The returned mean and variance are kept out of any
 * tidy scope (the op's forward pass runs in one of its own): the caller disposes them.
 *
 * `twiceDifferentiable` gives the op a gradient that can itself be differentiated (double
 * backprop): the same values, from ops whose own gradients are written out below. The plain
 * gradient cannot be: the statistics are made inside the op, out of the tape's sight, so a
 * gradient of it would take them for constants (and on wasm it is a kernel without a gradient).
 */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, twiceDifferentiable = false) {
  const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
  const kernels = tf.getKernel(BN_TRAINING, tf.getBackend()) !== undefined;
  const op = tf.customGrad((...args) => {
    const [input, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    let y: tf.Tensor;
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (kernels) {
      [y, mean, variance] = tf.engine().runKernel(BN_TRAINING, { x: input, scale: g, offset: b }, { epsilon }) as tf.Tensor[];
    } else {
      mean = tf.mean(input, [0, 1, 2]);
      variance = tf.mean(tf.square(tf.sub(input, mean)), [0, 1, 2]);
      y = tf.batchNorm(input, mean, variance, b, g, epsilon);
    }
    Object.assign(stats, { mean: tf.keep(mean), variance: tf.keep(variance) });
    save([input, mean, variance, g]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      (twiceDifferentiable ? batchNormTrainingGradTwice(dy, saved, epsilon, kernels) : batchNormTrainingGrad(dy, saved, epsilon, kernels));
    return { value: y, gradFunc };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean: stats.mean!, variance: stats.variance! };
}

/** [dx, dγ, dβ]: dγ = Σ dy·x̂, dβ = Σ dy (per channel). */
function batchNormTrainingGrad(dy: tf.Tensor, saved: tf.Tensor[], epsilon: number, kernels: boolean): tf.Tensor[] {
  const [x, mean, variance, gamma] = saved;
  if (kernels) return tf.engine().runKernel(BN_TRAINING_GRAD, { dy, x, mean, variance, scale: gamma }, { epsilon }) as tf.Tensor[];
  const n = dy.size / dy.shape[3]!;
  const r = tf.rsqrt(tf.add(variance, epsilon));
  const xc = tf.sub(x, mean);
  const sumDy = tf.sum(dy, [0, 1, 2]);
  const sumDyXc = tf.sum(tf.mul(dy, xc), [0, 1, 2]);
  const gr = tf.mul(gamma, r);
  const xcScale = tf.mul(tf.neg(gr), tf.mul(tf.square(r), tf.div(sumDyXc, n)));
  const shift = tf.mul(tf.neg(gr), tf.div(sumDy, n));
  const dx = tf.add(tf.add(tf.mul(dy, gr), tf.mul(xc, xcScale)), shift);
  return [dx, tf.mul(sumDyXc, r), sumDy];
}

/**
 * batchNormTrainingGrad as ops with gradients: dx and dγ are custom ops of (dy, x, γ) and (dy, x)
 * whose gradients below include the statistics' dependence on x (the statistics enter them as
 * constants, with the values of the forward pass); dβ = Σ dy is a plain sum. They keep only their
 * inputs for the second backward pass (dy, and x and γ, which the forward pass kept already), so
 * double backprop holds about one more activation per batch norm than one backward pass does.
 *
 * With g = dy, a and b the cotangents of dx and dγ, per channel (n values): ḡ, ā the means,
 * m = mean(g·x̂), m_a = mean(a·x̂), κ = mean(a·g) − ā·ḡ. Then
 *   dx's gradient:  in g  γr·(a − ā − x̂·m_a)  (the batch norm backward of a);
 *                   in x  A_g·(g − ḡ) + A_a·(a − ā) + A_x·x̂,  A_g = −γr²·m_a, A_a = −γr²·m,
 *                         A_x = γr²·(3·m·m_a − κ);
 *                   in γ  n·r·(κ − m·m_a);
 *   dγ's gradient:  in g  b·x̂;  in x  b·r·(g − ḡ − x̂·m)  (the backward of g with scale b).
 */
function batchNormTrainingGradTwice(dy: tf.Tensor, saved: tf.Tensor[], epsilon: number, kernels: boolean): tf.Tensor[] {
  const [, mean, variance, gamma] = saved;
  const axes = [0, 1, 2];
  const n = dy.size / dy.shape[3]!;
  const rstd = () => tf.rsqrt(tf.add(variance, epsilon));
  const backward = (g: tf.Tensor, x: tf.Tensor, scale: tf.Tensor) => batchNormTrainingGrad(g, [x, mean, variance, scale], epsilon, kernels);
  const dxOp = tf.customGrad((...args) => {
    const [g0, x0, gamma0] = args as tf.Tensor[];
    (args[3] as tf.GradSaveFunc)([g0, x0, gamma0]);
    // In a tidy: a custom op's gradient runs outside the tape's per-gradient scopes, and its
    // intermediates would otherwise live until the whole backward pass ends.
    const gradFunc = (a: tf.Tensor, kept: tf.Tensor[]) => tf.tidy(() => {
      const [g, x, gm] = kept;
      const r = rstd();
      const [dg, sumAXhat, sumA] = backward(a, x, gm);
      const xc = tf.sub(x, mean);
      const gBar = tf.div(tf.sum(g, axes), n);
      const m = tf.div(tf.mul(tf.sum(tf.mul(g, xc), axes), r), n);
      const aBar = tf.div(sumA, n);
      const mA = tf.div(sumAXhat, n);
      const kappa = tf.sub(tf.div(tf.sum(tf.mul(a, g), axes), n), tf.mul(aBar, gBar));
      const gr2 = tf.mul(gm, tf.square(r));
      const aG = tf.neg(tf.mul(gr2, mA));
      const aA = tf.neg(tf.mul(gr2, m));
      const aX = tf.mul(gr2, tf.sub(tf.mul(3, tf.mul(m, mA)), kappa));
      // A_x·x̂ = A_x·r·(x − μ); the per-channel constant gathers the three shifts.
      const shift = tf.neg(tf.add(tf.add(tf.mul(aG, gBar), tf.mul(aA, aBar)), tf.mul(tf.mul(aX, r), mean)));
      const dx = tf.add(tf.add(tf.mul(g, aG), tf.mul(a, aA)), tf.add(tf.mul(x, tf.mul(aX, r)), shift));
      return [dg, dx, tf.mul(tf.mul(n, r), tf.sub(kappa, tf.mul(m, mA)))];
    });
    return { value: backward(g0, x0, gamma0)[0], gradFunc };
  });
  const dGammaOp = tf.customGrad((...args) => {
    const [g0, x0] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([g0, x0]);
    const gradFunc = (b: tf.Tensor, kept: tf.Tensor[]) => tf.tidy(() => {
      const [g, x] = kept;
      return [tf.mul(tf.sub(x, mean), tf.mul(b, rstd())), backward(g, x, b)[0]];
    });
    // The plain gradient's dγ (which does not depend on the scale), so that the values are its own.
    return { value: backward(g0, x0, gamma)[1], gradFunc };
  });
  return [dxOp(dy, saved[0], gamma), dGammaOp(dy, saved[0]), tf.sum(dy, axes)];
}

/**
 * ReLU whose gradient dy·step(x) is an op of dy alone, with x (kept by the forward pass) as a
 * constant: its own gradient a·step(x) needs nothing more, where tfjs's ReLU gradient keeps a
 * full-size mask for a second backward pass. The same values.
 */
function reluTwiceDifferentiable(x: tf.Tensor): tf.Tensor {
  return tf.customGrad((...args) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const mask = (t: tf.Tensor) => tf.tidy(() => tf.mul(t, tf.step(saved[0])));
      return tf.customGrad((...inner) => ({ value: mask(inner[0] as tf.Tensor), gradFunc: (a: tf.Tensor) => mask(a) }))(dy);
    };
    return { value: tf.relu(input), gradFunc };
  })(x);
}

/** A ReLU layer that takes `reluTwiceDifferentiable` when the call asks for it (`TWICE_DIFFERENTIABLE`). */
export function withTwiceDifferentiableRelu(relu: tf.layers.Layer): void {
  const stock = relu.call.bind(relu);
  relu.call = (inputs, kwargs) => (kwargs?.[TWICE_DIFFERENTIABLE] === true ? reluTwiceDifferentiable(oneTensor(inputs)) : stock(inputs, kwargs));
}

/**
 * Uses `batchNormTraining` when the layer runs in training mode, with the stock layer's moving
 * average update (v ← v − (1 − momentum)·(v − batch value)), twice differentiable when the call
 * asks for it (`TWICE_DIFFERENTIABLE`); inference is untouched.
 */
export function withOnePassBatchNorm(bn: tf.layers.Layer, momentum: number, epsilon: number): void {
  const inference = bn.call.bind(bn);
  // BatchNormalization.build adds γ, β, moving mean, moving variance in this order (center and scale on).
  const WEIGHTS = ['gamma', 'beta', 'moving_mean', 'moving_variance'];
  const weight = (name: string) => {
    if (bn.weights.length !== WEIGHTS.length) throw new Error(`batch norm layer ${bn.name} needs center and scale`);
    return bn.weights[WEIGHTS.indexOf(name)];
  };
  bn.call = (inputs, kwargs) => {
    if (!kwargs?.training) return inference(inputs, kwargs);
    return tf.tidy(() => {
      const [gamma, beta] = [weight('gamma').read() as tf.Tensor1D, weight('beta').read() as tf.Tensor1D];
      const { y, mean, variance } = batchNormTraining(oneTensor(inputs), gamma, beta, epsilon, kwargs[TWICE_DIFFERENTIABLE] === true);
      for (const [name, value] of [['moving_mean', mean], ['moving_variance', variance]] as const) {
        const v = weight(name);
        v.write(tf.tidy(() => tf.sub(v.read(), tf.mul(tf.sub(v.read(), value), 1 - momentum))));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  };
}
