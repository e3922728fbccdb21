// The one view of a network that attacks, trainers and evaluation use: inputs in [0,1], one logits
// tensor per exit. Normalisation happens inside `forward`, so attacks work in pixel space.
import * as tf from '@tensorflow/tfjs';
import type { ModelSummary } from '../../../src-shared/engine-messages';

export interface ForwardOptions {
  /**
   * Build the pass from ops autodiff can differentiate twice (for a penalty on an input gradient,
   * differentiated with respect to the weights): the batch norms and ReLUs then give gradients that
   * have gradients of their own (see model/lean-layers.ts). Same values; off by default.
   */
  twiceDifferentiable?: boolean;
}

export interface MultiExitNet {
  /** Logits per exit, shallowest first; `training` switches batch normalisation to batch statistics. */
  forward(x: tf.Tensor4D, training: boolean, options?: ForwardOptions): tf.Tensor2D[];
  readonly exitCount: number;
  readonly numClasses: number;
  /** The fully connected kernel of each exit, the weights the λ penalty acts on. */
  readonly fcKernels: tf.LayerVariable[];
  /** Variables updated by the optimizer. */
  readonly trainableVariables: tf.Variable[];
  /** The underlying serializable model (tfjs-layers), for checkpoints and export. */
  readonly layersModel: tf.LayersModel;
  readonly summary: ModelSummary;
  dispose(): void;
}

/** Which exits an attack's loss looks at (Hu et al., ICLR 2020 for max-average). */
export type ExitTarget =
  | { kind: 'exit'; index: number }
  | { kind: 'average' }
  | { kind: 'max-average' };
