import { METHODS, TrainConfigSchema, type Method, type TrainConfig } from '../../../../src-shared/config';
import type { TrainingMethod } from './types';
import { standard } from './standard';
import { fgsmMultiExit } from './fgsm-me';
import { pgdAt } from './pgd-at';
import { fgsmRandomStart } from './fgsm-rs';
import { freeM } from './free';
import { trades } from './trades';
import { gradAlign } from './gradalign';

export type MethodParams = Pick<TrainConfig, 'method' | 'pgdSteps' | 'tradesBeta' | 'freeReplays' | 'gradAlignLambda'>;

/**
 * The training method of a run, with its parameters. A run creates its own: Free-m carries its
 * perturbation from one minibatch to the next, GradAlign a batch's clean input gradient from its
 * craft to its loss. `fgsm` is the same step as `fgsm-me` on a
 * single-exit network with λ = 0 (see `resolveTrainConfig`), i.e. classic FGSM adversarial training.
 */
export function createMethod(p: MethodParams): TrainingMethod {
  switch (p.method) {
    case 'standard': return standard;
    case 'fgsm-me':
    case 'fgsm': return fgsmMultiExit;
    case 'pgd-at': return pgdAt(p.pgdSteps);
    case 'fgsm-rs': return fgsmRandomStart;
    case 'free': return freeM(p.freeReplays);
    case 'trades': return trades(p.pgdSteps, p.tradesBeta);
    case 'gradalign': return gradAlign(p.gradAlignLambda);
  }
}

/** Every method with its default parameters (for defaults and benchmarks; runs use createMethod). */
export const TRAINING_METHODS = Object.fromEntries(
  METHODS.map((method) => [method, createMethod(TrainConfigSchema.parse({ method }))]),
) as Record<Method, TrainingMethod>;
