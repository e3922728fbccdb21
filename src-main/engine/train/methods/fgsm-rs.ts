import { fgsm } from '../../attacks/fgsm';
import type { TrainingMethod } from './types';
import { multiExitLoss } from './penalty';

/**
 * "Fast is better than free" (Wong et al., ICLR 2020): FGSM from a uniform random start in the
 * ε-ball with step α = 1.25·ε. Their early stopping (end the run when PGD accuracy on a training
 * minibatch collapses, keep the weights from before) is done by the trainer: `earlyStop` resolves
 * to on for this method.
 */
export const fgsmRandomStart: TrainingMethod = {
  craft: (ctx, x, y) => fgsm(ctx.net, x, y, { eps: ctx.eps, alpha: ctx.alpha, randomStart: true, target: { kind: 'average' }, training: true, seed: ctx.seed }),
  loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
  forwardEquivalents: () => 6,
  defaultAlpha: (eps) => 1.25 * eps,
};
