// Faster `call`s for two tfjs-layers layers the MSDNet is made of. Only the instances' `call`
// changes: classes, configs and weights stay standard, so saved and exported models load anywhere
// as plain Conv2D and BatchNormalization layers.
import * as tf from '@tensorflow/tfjs';
import { BN_TRAINING, BN_TRAINING_GRAD } from '../kernels/batch-norm-training';

type CallArgs = Parameters<tf.layers.Layer['call']>;

const oneTensor = (inputs: CallArgs[0]): tf.Tensor4D => (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;

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
 */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number) {
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
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => batchNormTrainingGrad(dy, saved, epsilon, kernels) };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, mean: stats.mean!, variance: stats.variance! };
}

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
 * Uses `batchNormTraining` when the layer runs in training mode, with the stock layer's moving
 * average update (v ← v − (1 − momentum)·(v − batch value)); inference is untouched.
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
      const { y, mean, variance } = batchNormTraining(oneTensor(inputs), weight('gamma').read() as tf.Tensor1D, weight('beta').read() as tf.Tensor1D, epsilon);
      for (const [name, value] of [['moving_mean', mean], ['moving_variance', variance]] as const) {
        const v = weight(name);
        v.write(tf.tidy(() => tf.sub(v.read(), tf.mul(tf.sub(v.read(), value), 1 - momentum))));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  };
}
