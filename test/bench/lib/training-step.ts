// One training step of a method on the reference CIFAR MSDNet, done exactly as the trainer does it
// (craft → loss under variableGrads → SGD update), on a fixed random batch.
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, type ModelConfig } from '../../../src-shared/config';
import { buildMsdnet } from '../../../src-main/engine/model/msdnet';
import type { MultiExitNet } from '../../../src-main/engine/model/multi-exit';
import { TRAINING_METHODS } from '../../../src-main/engine/train/methods';
import type { StepContext, TrainingMethod } from '../../../src-main/engine/train/methods/types';
import { multiExitLoss } from '../../../src-main/engine/train/methods/penalty';
import { paperLambda } from '../../../src-main/engine/train/schedules';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';
import { pgd } from '../../../src-main/engine/attacks/pgd';

/**
 * PGD-k adversarial training (Madry et al.) against the average of the exits' losses. The engine
 * has no such method yet; the benchmark needs it as the expensive reference point.
 */
export function pgdTraining(steps: number): TrainingMethod {
  return {
    craft: (ctx, x, y) => pgd(ctx.net, x, y, { eps: ctx.eps, alpha: ctx.alpha, steps, restarts: 1, target: { kind: 'average' }, training: true, seed: ctx.seed }),
    loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
    forwardEquivalents: () => 3 * (steps + 1),
    defaultAlpha: () => 2,
  };
}

export interface StepMethod {
  name: string;
  method: TrainingMethod;
  /** α in /255. */
  alpha255: number;
}

export function methodByName(name: string): StepMethod {
  if (name === 'standard' || name === 'fgsm-me') return { name, method: TRAINING_METHODS[name], alpha255: TRAINING_METHODS[name].defaultAlpha(8) };
  const pgdMatch = /^pgd-(\d+)$/.exec(name);
  if (pgdMatch) return { name, method: pgdTraining(Number(pgdMatch[1])), alpha255: 2 };
  throw new Error(`unknown training method ${name} (standard, fgsm-me, pgd-<k>)`);
}

export interface StepRig {
  net: MultiExitNet;
  step(): Promise<number>;
  forwardEquivalents: number;
  dispose(): void;
}

export const REFERENCE_MODEL: ModelConfig = ModelConfigSchema.parse({});

export function makeStepRig(methodName: string, batchSize: number, model: ModelConfig = REFERENCE_MODEL, seed = 1): StepRig {
  const { method, alpha255 } = methodByName(methodName);
  const net = buildMsdnet(model, { numClasses: 10, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26], seed });
  const vars = net.trainableVariables;
  const optimizer = new SgdMomentum(vars, 0.9, 5e-4);
  const x = tf.keep(tf.randomUniform([batchSize, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D);
  const y = tf.keep(tf.tensor1d(Array.from({ length: batchSize }, (_, i) => (i * 7 + seed) % 10), 'int32'));
  const ctx: StepContext = { net, eps: 8 / 255, alpha: alpha255 / 255, lambda: paperLambda(net.exitCount), seed };
  return {
    net,
    forwardEquivalents: method.forwardEquivalents(ctx),
    async step() {
      const crafted = method.craft(ctx, x, y);
      const { value, grads } = tf.variableGrads(() => method.loss(ctx, x, crafted, y).loss, vars);
      optimizer.apply(vars.map((v) => grads[v.name]), 0.01);
      const loss = (await value.data())[0];
      tf.dispose([value, Object.values(grads), crafted === x ? [] : crafted]);
      return loss;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, y]);
      net.layersModel.dispose();
    },
  };
}
