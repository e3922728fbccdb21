// CW∞: PGD on the Carlini–Wagner margin loss min(max_{k≠y} z_k − z_y, κ) (Carlini & Wagner 2017),
// the L∞ variant robustness papers report next to PGD (CW-30, the paper's CW-100). Random start,
// sign steps, projection onto the ε-ball and the image box; any iterate that fools is kept.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import type { SingleTarget } from './objective';
import { fooledFlags, type AttackOutcome } from './attack';
import { pgd } from './pgd';

export interface CwOptions {
  eps: number;
  alpha: number;
  steps: number;
  restarts: number;
  target: SingleTarget;
  seed?: number;
}

export async function cwInf(net: MultiExitNet, x: tf.Tensor4D, y: tf.Tensor1D, opts: CwOptions): Promise<AttackOutcome> {
  const xAdv = pgd(net, x, y, { ...opts, loss: 'cw', keepFooling: true });
  return { xAdv, fooled: await fooledFlags(net, xAdv, y, opts.target) };
}
