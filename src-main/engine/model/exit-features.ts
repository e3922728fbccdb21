// The feature map each exit's classifier reads: the coarsest scale at the end of that exit's block.
// The paper measures how far an attack moves these, block by block (‖f(x) − f(x′)‖₂), to show that
// adversarial perturbations grow with depth. Found by walking back from each exit's fully connected
// layer through its head's two convolutions, so it works on a freshly built and a loaded network.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from './multi-exit';

/** Convolutions in an exit's head (msdnet.ts, LayerFactory.classifier) between the block's features and its FC layer. */
const HEAD_CONVOLUTIONS = 2;

function headInput(fc: tf.layers.Layer): tf.SymbolicTensor {
  let t = fc.input as tf.SymbolicTensor;
  let convolutions = 0;
  for (;;) {
    const layer = t.sourceLayer as tf.layers.Layer;
    if (layer.getClassName() === 'Conv2D' && ++convolutions === HEAD_CONVOLUTIONS) return layer.input as tf.SymbolicTensor;
    if (Array.isArray(layer.input) || layer.getClassName() === 'InputLayer') {
      throw new Error(`exit layer ${fc.name}: its head does not have ${HEAD_CONVOLUTIONS} convolutions`);
    }
    t = layer.input;
  }
}

/** Per exit, the features its head reads, for images in [0,1] (normalised as the network's forward does). */
export function exitFeatures(
  net: MultiExitNet,
  normalisation: { mean: number[]; std: number[] },
): { features(x: tf.Tensor4D): tf.Tensor4D[]; dispose(): void } {
  const model = net.layersModel;
  const outputs = net.fcKernels.map((k) => headInput(model.getLayer(k.originalName.split('/')[0])));
  const featureModel = tf.model({ inputs: model.inputs, outputs });
  const mean = tf.keep(tf.tensor1d(normalisation.mean));
  const std = tf.keep(tf.tensor1d(normalisation.std));
  return {
    features: (x) => {
      const out = featureModel.predict(tf.div(tf.sub(x, mean), std)) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(out) ? out : [out]) as tf.Tensor4D[];
    },
    // The feature model shares the network's layers and weights: only the normalisation is its own.
    dispose: () => tf.dispose([mean, std]),
  };
}
