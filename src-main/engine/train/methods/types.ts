// What a training method contributes to a step: how to craft its training inputs (outside the
// weight gradient) and the loss to minimise on them. The trainer owns everything else: the
// optimizer, schedules, metrics and checkpoints.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../../model/multi-exit';

export interface StepContext {
  net: MultiExitNet;
  /** L∞ radius and step in [0,1] pixel units. */
  eps: number;
  alpha: number;
  /** λ per exit at this epoch (after warm-up). */
  lambda: number[];
  /** Seed for this step's random draws, derived from (run seed, epoch, batch) so resumes replay. */
  seed: number;
}

export interface TrainingMethod {
  /** Training inputs for this batch (adversarial examples, or x itself for standard training). */
  craft(ctx: StepContext, x: tf.Tensor4D, y: tf.Tensor1D): tf.Tensor4D;
  /**
   * Loss to minimise, computed under the weight gradient tape, and the logits it saw on the
   * crafted inputs (for adversarial training metrics).
   */
  loss(ctx: StepContext, x: tf.Tensor4D, crafted: tf.Tensor4D, y: tf.Tensor1D): { loss: tf.Scalar; logits: tf.Tensor2D[] };
  /** Forward-pass equivalents of one step, for throughput accounting (standard 3, FGSM 6, PGD-k 3(k+1)). */
  forwardEquivalents(ctx: StepContext): number;
  /** Default FGSM/PGD step in /255 for a given ε in /255, when the user sets none. */
  defaultAlpha(eps255: number): number;
  /**
   * Weight updates per minibatch (default 1). Free-m replays each minibatch m times: the trainer
   * runs craft → loss → SGD step that many times, the learning rate advancing by 1/m of a step each.
   */
  replays?: number;
  /**
   * When present, the trainer also differentiates the loss with respect to the crafted inputs, in
   * the same backward pass as the weights, and hands that gradient here after the SGD step (Free-m
   * updates its perturbation with it: one backward pass per replay gives both gradients).
   */
  inputGradient?(ctx: StepContext, x: tf.Tensor4D, gradient: tf.Tensor4D): void;
  /** Frees per-run state (Free-m's persistent perturbation). */
  dispose?(): void;
}
