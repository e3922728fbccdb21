// Robustness bookkeeping for one attack on one batch: which (image, classifier) pairs still resist,
// where the classifiers are the exits and the early-exit model at each budget. Every candidate an
// attack produces is checked against all of them, so an image counts as fooled for a classifier as
// soon as any candidate within the ε-ball fools it (worst case over candidates, as AutoAttack does
// over its attacks). Attacks then only spend effort on images some classifier still gets right.
import * as tf from '@tensorflow/tfjs';
import type { MultiExitNet } from '../model/multi-exit';
import { headsOf, type SingleTarget } from '../attacks/objective';
import type { EnsembleTracker } from '../attacks/attack';
import { confidences, exitTaken } from './early-exit';

export interface Predictions {
  conf: Float32Array;
  pred: Int32Array;
}

export async function predictAll(net: MultiExitNet, x: tf.Tensor4D): Promise<Predictions> {
  const logits = tf.tidy(() => net.forward(x, false));
  const { conf, pred } = await confidences(logits);
  tf.dispose(logits);
  return { conf, pred };
}

export class RobustTracker implements EnsembleTracker {
  /** Per classifier (exits first, then one per budget threshold): 1 while the image resists. */
  readonly robust: Uint8Array[];
  /** Per budget: the exit the early-exit model used on the image's last recorded point. */
  readonly taken: Int32Array[];
  /** Per component: newly fooled images per classifier. */
  readonly gains = new Map<string, number[]>();
  private readonly exits: number;

  constructor(private readonly net: MultiExitNet, private readonly labels: Int32Array, private readonly thresholds: number[], clean: Predictions) {
    this.exits = net.exitCount;
    const n = labels.length;
    this.robust = [];
    for (let e = 0; e < this.exits; e++) this.robust.push(Uint8Array.from({ length: n }, (_, i) => (clean.pred[i * this.exits + e] === labels[i] ? 1 : 0)));
    this.taken = thresholds.map((t) => exitTaken(clean.conf, n, this.exits, t));
    for (const taken of this.taken) this.robust.push(Uint8Array.from({ length: n }, (_, i) => (clean.pred[i * this.exits + taken[i]] === labels[i] ? 1 : 0)));
  }

  get classifiers(): number {
    return this.robust.length;
  }

  /** Rows where a classifier this objective speaks for still resists: its own exits, and for the average also the early-exit model. */
  pending(target: SingleTarget): number[] {
    const concern = target.kind === 'exit' ? headsOf(target, this.exits) : Array.from({ length: this.classifiers }, (_, c) => c);
    const rows: number[] = [];
    for (let i = 0; i < this.labels.length; i++) if (concern.some((c) => this.robust[c][i])) rows.push(i);
    return rows;
  }

  async record(rows: number[], xAdv: tf.Tensor4D, component: string): Promise<number> {
    if (rows.length === 0) return 0;
    const { conf, pred } = await predictAll(this.net, xAdv);
    const gains = this.gains.get(component) ?? new Array(this.classifiers).fill(0);
    let total = 0;
    const flip = (c: number, row: number, correct: boolean) => {
      if (this.robust[c][row] && !correct) {
        this.robust[c][row] = 0;
        gains[c] += 1;
        total += 1;
      }
    };
    rows.forEach((row, j) => {
      for (let e = 0; e < this.exits; e++) flip(e, row, pred[j * this.exits + e] === this.labels[row]);
      this.thresholds.forEach((t, b) => {
        let k = 0;
        while (k < this.exits - 1 && conf[j * this.exits + k] < t) k++;
        // Under attack the cost is that of the image's most recent point, or of the point that fooled it.
        if (this.robust[this.exits + b][row]) this.taken[b][row] = k;
        flip(this.exits + b, row, pred[j * this.exits + k] === this.labels[row]);
      });
    });
    this.gains.set(component, gains);
    return total;
  }
}
