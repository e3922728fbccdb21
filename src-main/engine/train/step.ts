// One minibatch of training: the method crafts its inputs, one backward pass gives the weight
// gradient (and, for methods that want it, the input gradient), the optimizer steps. Methods that
// replay a minibatch (Free-m) do this `replays` times.
import * as tf from '@tensorflow/tfjs';
import type { StepContext, TrainingMethod } from './methods/types';

export interface WeightUpdate {
  /** Applies one update; `grads` are in the order of the trainer's variables. */
  apply(grads: tf.Tensor[], lr: number): void;
}

/**
 * Runs the method's step(s) on one minibatch and returns the last replay's loss. `lr(r)` is the
 * learning rate of replay r; `after` sees each replay's loss and logits on the crafted inputs
 * (disposed when it returns) and may throw to abort.
 */
export async function trainStep(
  method: TrainingMethod,
  ctx: StepContext,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  vars: tf.Variable[],
  optimizer: WeightUpdate,
  lr: (replay: number) => number,
  after: (replay: number, loss: number, logits: tf.Tensor2D[]) => Promise<void> = async () => undefined,
): Promise<number> {
  let loss = 0;
  for (let r = 0; r < (method.replays ?? 1); r++) {
    const crafted = method.craft(ctx, x, y);
    const input = method.inputGradient ? tf.variable(crafted, true) : null;
    let logits: tf.Tensor2D[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = method.loss(ctx, x, input ?? crafted, y);
      logits = out.logits.map((l) => tf.keep(l));
      return out.loss;
    }, input ? [...vars, input] : vars);
    optimizer.apply(vars.map((v) => grads[v.name]), lr(r));
    if (input) method.inputGradient!(ctx, x, grads[input.name] as tf.Tensor4D);
    loss = (await value.data())[0];
    tf.dispose([value, Object.values(grads), crafted === x ? [] : crafted, input ?? []]);
    try {
      await after(r, loss, logits);
    } finally {
      tf.dispose(logits);
    }
  }
  return loss;
}
