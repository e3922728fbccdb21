// Turns a parsed TrainConfig into the concrete settings a run uses: method defaults filled in and
// cross-field checks done, so the engine never starts work on an inconsistent configuration.
import { trainConfigProblem, type TrainConfig } from '../../../src-shared/config';
import { TRAINING_METHODS } from './methods';
import { paperLambda } from '../../../src-shared/presets';

export interface ResolvedRun {
  config: TrainConfig;
  exitCount: number;
  /** ε and α in [0,1] pixel units. */
  eps: number;
  alpha: number;
  lambda: number[];
}

export class ConfigError extends Error {}

function exitCountOf(config: TrainConfig): number {
  return config.model.exits === 'last' ? 1 : config.model.blocks;
}

export function resolveTrainConfig(input: TrainConfig): ResolvedRun {
  // `fgsm` is single-exit FGSM training: the contrast the paper starts from.
  const config: TrainConfig = input.method === 'fgsm' ? { ...input, model: { ...input.model, exits: 'last' } } : input;
  const exitCount = exitCountOf(config);
  const problem = trainConfigProblem(config, exitCount);
  if (problem) throw new ConfigError(problem);
  const method = TRAINING_METHODS[config.method];
  const lambda = config.lambda ?? (config.method === 'fgsm-me' ? paperLambda(exitCount) : new Array(exitCount).fill(0));
  const alpha255 = config.alpha ?? method.defaultAlpha(config.eps);
  // Wong et al.'s early stopping belongs to FGSM with random start; any method may ask for it.
  const earlyStop = config.earlyStop ?? (config.method === 'fgsm-rs' && config.keepBest);
  // Free-m does m weight updates per minibatch: `epochs` counts epoch-equivalents of work, so the
  // data set is passed ⌈epochs / m⌉ times (and the λ warm-up is shortened the same way).
  const passes = (epochs: number) => (config.method === 'free' ? Math.ceil(epochs / config.freeReplays) : epochs);
  const resolved: TrainConfig = { ...config, lambda, earlyStop, epochs: passes(config.epochs), lambdaWarmupEpochs: passes(config.lambdaWarmupEpochs) };
  return { config: resolved, exitCount, eps: config.eps / 255, alpha: alpha255 / 255, lambda };
}
