// One training step of a method on the reference CIFAR MSDNet, done by the trainer's own step
// (craft → loss under variableGrads → SGD update), on a fixed random batch.
import * as tf from '@tensorflow/tfjs';
import { METHODS, ModelConfigSchema, TrainConfigSchema, type ModelConfig } from '../../../src-shared/config';
import { buildMsdnet } from '../../../src-main/engine/model/msdnet';
import type { MultiExitNet } from '../../../src-main/engine/model/multi-exit';
import { createMethod } from '../../../src-main/engine/train/methods';
import type { StepContext, TrainingMethod } from '../../../src-main/engine/train/methods/types';
import { trainStep } from '../../../src-main/engine/train/step';
import { paperLambda } from '../../../src-shared/presets';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';

/** `standard`, `fgsm-me`, … (the engine's methods with the configuration's default parameters), or `pgd-<k>` for PGD-AT with k steps. */
function methodByName(name: string): TrainingMethod {
  const pgdMatch = /^pgd-(\d+)$/.exec(name);
  if (pgdMatch) return createMethod(TrainConfigSchema.parse({ method: 'pgd-at', pgdSteps: Number(pgdMatch[1]) }));
  if (!(METHODS as readonly string[]).includes(name)) throw new Error(`unknown training method ${name} (${METHODS.join(', ')}, pgd-<k>)`);
  return createMethod(TrainConfigSchema.parse({ method: name }));
}

export interface StepRig {
  net: MultiExitNet;
  step(): Promise<number>;
  /** Forward-pass equivalents of one step, and images it processes (replays count once each). */
  forwardEquivalents: number;
  imagesPerStep: number;
  dispose(): void;
}

export const REFERENCE_MODEL: ModelConfig = ModelConfigSchema.parse({});

export function makeStepRig(methodName: string, batchSize: number, model: ModelConfig = REFERENCE_MODEL, seed = 1): StepRig {
  const method = methodByName(methodName);
  const net = buildMsdnet(model, { numClasses: 10, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26], seed });
  const vars = net.trainableVariables;
  const optimizer = new SgdMomentum(vars, 0.9, 5e-4);
  const x = tf.keep(tf.randomUniform([batchSize, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D);
  const y = tf.keep(tf.tensor1d(Array.from({ length: batchSize }, (_, i) => (i * 7 + seed) % 10), 'int32'));
  const ctx: StepContext = { net, eps: 8 / 255, alpha: method.defaultAlpha(8) / 255, lambda: paperLambda(net.exitCount), seed };
  return {
    net,
    forwardEquivalents: method.forwardEquivalents(ctx),
    imagesPerStep: batchSize * (method.replays ?? 1),
    step: () => trainStep(method, ctx, x, y, vars, optimizer, () => 0.01),
    dispose() {
      method.dispose?.();
      optimizer.dispose();
      tf.dispose([x, y]);
      net.layersModel.dispose();
    },
  };
}
