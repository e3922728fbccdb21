// The WeightUpdate of a data-parallel replica: instead of stepping on its own shard's gradient, it
// puts the gradient and its batch-norm moving statistics through the all-reduce, then steps on the
// weighted mean (the gradient of the whole minibatch) and takes the mean statistics.
//
// Batch norm normalises each shard with that shard's own batch statistics, as PyTorch's
// DistributedDataParallel does without SyncBatchNorm: with small shards those statistics are
// noisier than the whole batch's, so N workers do not train exactly the network one worker would
// (the gradients differ a little). The moving averages used at inference stay identical on every
// replica: the moving-average update is affine in the batch statistics, so averaging the updated
// values equals updating with the shards' mean statistics. The moving variance is then the mean of
// the shards' variances, which leaves out the spread between shard means (slightly below the whole
// batch's variance).
import * as tf from '@tensorflow/tfjs';
import type { WeightUpdate } from '../train/step';
import type { SgdMomentum } from '../train/optimizer';
import type { AllReduce } from './all-reduce';

export class ExchangedUpdate implements WeightUpdate {
  constructor(
    private readonly exchange: AllReduce,
    private readonly optimizer: SgdMomentum,
    private readonly statistics: tf.LayerVariable[],
    /** Each replica's share of the minibatch, in replica order. */
    private readonly weights: number[],
  ) {}

  apply(grads: tf.Tensor[], lr: number): void {
    const slot = this.exchange.slot();
    let offset = 0;
    const put = (t: tf.Tensor) => {
      slot.set(t.dataSync() as Float32Array, offset);
      offset += t.size;
    };
    grads.forEach(put);
    this.statistics.forEach((s) => put(s.read()));
    const mean = this.exchange.reduce(this.weights);
    offset = 0;
    const take = (shape: number[], size: number) => {
      const t = tf.tensor(mean.subarray(offset, offset + size), shape);
      offset += size;
      return t;
    };
    const reduced = grads.map((g) => take(g.shape, g.size));
    this.optimizer.apply(reduced, lr);
    tf.dispose(reduced);
    for (const s of this.statistics) {
      const value = take(s.read().shape, s.read().size);
      s.write(value);
      value.dispose();
    }
  }
}

/** Floats one replica puts through the exchange per update. */
export function exchangeLength(vars: tf.Variable[], statistics: tf.LayerVariable[]): number {
  return vars.reduce((a, v) => a + v.size, 0) + statistics.reduce((a, s) => a + s.read().size, 0);
}
