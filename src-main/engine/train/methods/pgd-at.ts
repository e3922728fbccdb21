import { pgd } from '../../attacks/pgd';
import type { TrainingMethod } from './types';
import { multiExitLoss } from './penalty';

/**
 * PGD adversarial training (Madry et al., ICLR 2018): PGD-k from a uniform random start in the
 * ε-ball against the average of the exits' losses, then the multi-exit loss on those examples.
 */
export function pgdAt(steps: number): TrainingMethod {
  return {
    craft: (ctx, x, y) => pgd(ctx.net, x, y, {
      eps: ctx.eps, alpha: ctx.alpha, steps, restarts: 1, target: { kind: 'average' }, training: true, seed: ctx.seed,
    }),
    loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
    forwardEquivalents: () => 3 * (steps + 1),
    defaultAlpha: () => 2,
  };
}
