import type { TrainingMethod } from './types';
import { multiExitLoss } from './penalty';

/** Clean training of every exit: the reference point for robustness. */
export const standard: TrainingMethod = {
  craft: (_ctx, x) => x,
  loss: (ctx, _x, crafted, y) => multiExitLoss(ctx.net, crafted, y, ctx.lambda),
  forwardEquivalents: () => 3,
  defaultAlpha: (eps) => eps,
};
