// SGD with momentum and L2 weight decay, as torch.optim.SGD computes it (v = μv + g + wd·w,
// w -= lr·v). Written out so its state is plain tensors we checkpoint and restore exactly.
import * as tf from '@tensorflow/tfjs';

export class SgdMomentum {
  readonly velocity: tf.Variable[];

  constructor(private readonly vars: tf.Variable[], private readonly momentum: number, private readonly weightDecay: number) {
    this.velocity = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  /** Applies one update; `grads` are in the order of the variables given at construction. */
  apply(grads: tf.Tensor[], lr: number): void {
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const g = this.weightDecay > 0 ? tf.add(grads[i], tf.mul(this.weightDecay, w)) : grads[i];
        const v = tf.add(tf.mul(this.momentum, this.velocity[i]), g);
        this.velocity[i].assign(v);
        w.assign(tf.sub(w, tf.mul(lr, v)));
      });
    });
  }

  setState(values: tf.Tensor[]): void {
    if (values.length !== this.velocity.length) throw new Error(`optimizer state has ${values.length} tensors, expected ${this.velocity.length}`);
    values.forEach((t, i) => this.velocity[i].assign(t));
  }

  dispose(): void {
    tf.dispose(this.velocity);
  }
}
