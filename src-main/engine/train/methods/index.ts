import type { Method } from '../../../../src-shared/config';
import type { TrainingMethod } from './types';
import { standard } from './standard';
import { fgsmMultiExit } from './fgsm-me';

/**
 * Every method the engine trains with. `fgsm` is the same step as `fgsm-me` on a single-exit
 * network with λ = 0 (see `resolveTrainConfig`), i.e. classic FGSM adversarial training.
 */
export const TRAINING_METHODS: Record<Method, TrainingMethod> = {
  standard,
  'fgsm-me': fgsmMultiExit,
  fgsm: fgsmMultiExit,
};
