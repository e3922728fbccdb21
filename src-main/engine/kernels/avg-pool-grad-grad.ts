// The gradient of AvgPoolGrad, which tfjs does not register: without it nothing that pools can be
// differentiated twice (the penalty of `gradalign` differentiates an input gradient with respect
// to the weights, and that input gradient passes back through each exit's average pool).
//
// AvgPoolGrad(dy) is the adjoint of the linear map AvgPool, dx = Aᵀ·dy, so its own gradient with
// respect to dy is A·ddx = AvgPool(ddx); its second input only gives the shape, so that gradient is
// zero. Exact for 'valid' padding (MSDNet's exits pool their whole map): there tfjs divides every
// window by the filter area both ways. With 'same' padding its AvgPoolGrad divides border windows
// by the filter area while AvgPool divides by the pixels inside, so the two are not adjoint there;
// that case is refused rather than approximated.
import * as tf from '@tensorflow/tfjs';
import { attrsOf } from './override';

export const avgPoolGradGradConfig: tf.GradConfig = {
  kernelName: tf.AvgPoolGrad,
  gradFunc: (ddx, _saved, attrs) => {
    const { filterSize, strides, pad } = attrsOf<tf.AvgPoolGradAttrs>(attrs);
    if (pad !== 'valid' && pad !== 0) throw new Error(`the second derivative of an average pool is implemented for 'valid' padding only, not '${pad}'`);
    const g = ddx as tf.Tensor4D;
    return {
      dy: () => tf.avgPool(g, filterSize, strides, pad),
      // ddx has the shape of AvgPoolGrad's output, which is the shape of this input.
      input: () => tf.zerosLike(g),
    };
  },
};
