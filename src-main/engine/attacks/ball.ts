// The threat model's geometry: the L∞ or L2 ball of radius ε around a clean batch, intersected with
// the image box [0,1]. Every attack projects its iterates here and starts from these random points.
import * as tf from '@tensorflow/tfjs';

export type Norm = 'linf' | 'l2';

/** Projects onto the L∞ ball of radius eps around x0, intersected with the image box [0,1]. */
export function projectLinf(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(xAdv, tf.sub(x0, eps)), tf.add(x0, eps)), 0, 1) as tf.Tensor4D);
}

/** Projection onto the L2 ball of radius eps around x0, then onto the image box. */
export function projectL2(xAdv: tf.Tensor4D, x0: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => {
    const d = tf.sub(xAdv, x0);
    const norm = tf.sqrt(tf.sum(tf.square(d), [1, 2, 3], true));
    const scale = tf.minimum(1, tf.div(eps, tf.add(norm, 1e-12)));
    return tf.clipByValue(tf.add(x0, tf.mul(d, scale)), 0, 1) as tf.Tensor4D;
  });
}

/** Unit-norm direction per sample (L∞: divide by the largest entry; L2: by the Euclidean norm). */
export function normalise(t: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => {
    const n = norm === 'linf' ? tf.max(tf.abs(t), [1, 2, 3], true) : tf.sqrt(tf.sum(tf.square(t), [1, 2, 3], true));
    return tf.div(t, tf.add(n, 1e-12)) as tf.Tensor4D;
  });
}

/**
 * A random point of the ball (then the box). `uniform`: uniform in the L∞ cube, as PGD and FGSM-RS
 * start (Madry et al.; Wong et al.). `surface`: a random direction scaled onto the sphere of the
 * norm, as APGD starts in AutoAttack's reference code.
 */
export function randomStart(x: tf.Tensor4D, eps: number, seed: number | undefined, kind: 'uniform' | { surface: Norm } = 'uniform'): tf.Tensor4D {
  return tf.tidy(() => {
    if (kind === 'uniform') return tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -eps, eps, 'float32', seed)), 0, 1) as tf.Tensor4D;
    const t = kind.surface === 'linf' ? tf.randomUniform(x.shape, -1, 1, 'float32', seed) : tf.randomNormal(x.shape, 0, 1, 'float32', seed);
    return tf.clipByValue(tf.add(x, tf.mul(eps, normalise(t as tf.Tensor4D, kind.surface))), 0, 1) as tf.Tensor4D;
  });
}
