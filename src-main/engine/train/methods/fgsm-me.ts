import { fgsm } from '../../attacks/fgsm';
import type { TrainingMethod } from './types';
import { multiExitLoss } from './penalty';

/**
 * The paper's method: FGSM examples against the average of all exits' losses, then the sum of the
 * exits' cross-entropies on them plus Σ λ_i ‖W_fc,i‖². With a single-exit network and λ = 0 this
 * is plain FGSM adversarial training, which is how `fgsm` is defined.
 */
export const fgsmMultiExit: TrainingMethod = {
  craft: (ctx, x, y) => fgsm(ctx.net, x, y, {
    eps: ctx.eps, alpha: ctx.alpha, randomStart: false, target: { kind: 'average' }, training: true, seed: ctx.seed,
  }),
  loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
  forwardEquivalents: () => 6,
  defaultAlpha: (eps) => eps,
};
