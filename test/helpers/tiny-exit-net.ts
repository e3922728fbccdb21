// A MultiExitNet small enough to search exhaustively: 2x2x1 images (4 pixels), 4 classes, two exits
// with fixed weights. Exit 1 is linear; exit 2 is linear too (`linear`) or a ReLU layer followed by
// a linear one (`relu`). With linear exits the ε-ball's corners decide robustness exactly.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../src-main/engine/model/multi-exit';

export const TINY_SHAPE: [number, number, number] = [2, 2, 1];
const TINY_CLASSES = 4;

// Fixed weights (4 pixels → 4 classes): each class prefers one pixel pattern, with enough
// disagreement between exits that they are fooled at different points.
const W1 = [
  [2.0, -1.0, 0.5, -1.5],
  [-1.0, 2.0, -1.5, 0.5],
  [0.5, -1.5, 2.0, -1.0],
  [-1.5, 0.5, -1.0, 2.0],
];
const B1 = [0.1, -0.1, 0.05, -0.05];
const W2 = [
  [1.5, -0.5, -1.0, 1.0],
  [-0.5, 1.5, 1.0, -1.0],
  [1.0, -1.0, 1.5, -0.5],
  [-1.0, 1.0, -0.5, 1.5],
];
const B2 = [0, 0.05, -0.05, 0];
const H = [
  [1.0, -0.5, 0.8, 0.2, -0.6, 0.4],
  [-0.7, 1.2, 0.1, -0.4, 0.9, -0.2],
  [0.3, 0.6, -1.1, 0.7, 0.2, 0.9],
  [0.5, -0.3, 0.4, -1.0, -0.8, 0.6],
];
const HB = [0.1, -0.2, 0.3, 0.0, 0.2, -0.1];
const V = [
  [1.2, -0.8, 0.3, -0.5],
  [-0.6, 1.1, -0.4, 0.2],
  [0.4, -0.2, 1.3, -0.9],
  [-0.3, 0.5, -0.7, 1.0],
  [0.8, 0.2, -0.6, -0.4],
  [-0.5, -0.4, 0.6, 0.9],
];

export function tinyExitNet(second: 'linear' | 'relu' = 'linear'): MultiExitNet {
  const input = tf.input({ shape: TINY_SHAPE });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const fc1 = tf.layers.dense({ units: TINY_CLASSES, name: 'exit0_fc' });
  const out1 = fc1.apply(flat) as tf.SymbolicTensor;
  const fc2 = tf.layers.dense({ units: TINY_CLASSES, name: 'exit1_fc' });
  let hidden = flat;
  const hiddenLayer = second === 'relu' ? tf.layers.dense({ units: 6, activation: 'relu', name: 'hidden' }) : null;
  if (hiddenLayer) hidden = hiddenLayer.apply(flat) as tf.SymbolicTensor;
  const out2 = fc2.apply(hidden) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [out1, out2] });
  fc1.setWeights([tf.tensor2d(W1), tf.tensor1d(B1)]);
  if (hiddenLayer) {
    hiddenLayer.setWeights([tf.tensor2d(H), tf.tensor1d(HB)]);
    fc2.setWeights([tf.tensor2d(V), tf.tensor1d(B2)]);
  } else {
    fc2.setWeights([tf.tensor2d(W2), tf.tensor1d(B2)]);
  }
  const macs2 = second === 'relu' ? 4 * 6 + 6 * TINY_CLASSES : 4 * TINY_CLASSES;
  return {
    forward: (x, training) => model.apply(x, { training }) as tf.Tensor2D[],
    exitCount: 2,
    numClasses: TINY_CLASSES,
    fcKernels: [fc1, fc2].map((l) => l.weights[0]),
    trainableVariables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    layersModel: model,
    summary: {
      exits: 2,
      parameters: model.countParams(),
      macs: 4 * TINY_CLASSES + macs2,
      perExit: [
        { exit: 0, parameters: 4 * TINY_CLASSES + TINY_CLASSES, macs: 4 * TINY_CLASSES },
        { exit: 1, parameters: model.countParams() - 4 * TINY_CLASSES - TINY_CLASSES, macs: macs2 },
      ],
    },
    dispose: () => model.dispose(),
  };
}

/** n seeded images of 2x2x1 pixels in [0,1] with labels: the clean prediction of exit 1 for most, so attacks have work to do. */
export function tinyBatch(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const x = tf.randomUniform([n, ...TINY_SHAPE], 0, 1, 'float32', seed) as tf.Tensor4D;
  const y = tf.tidy(() => tf.argMax(tf.matMul(tf.reshape(x, [n, 4]), tf.tensor2d(W1)), 1).toInt()) as tf.Tensor1D;
  return { x, y };
}
