// A few-thousand-parameter MSDNet for unit tests on the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, type ModelConfig } from '../../src-shared/config';
import { buildMsdnet } from '../../src-main/engine/model/msdnet';

export const TINY_MODEL: ModelConfig = ModelConfigSchema.parse({ blocks: 3, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 });

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function tinyNet(seed = 1, config: Partial<ModelConfig> = {}) {
  return buildMsdnet({ ...TINY_MODEL, ...config }, { numClasses: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], seed });
}

export function randomBatch(n: number, seed: number) {
  return {
    x: tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 3), 'int32'),
  };
}
