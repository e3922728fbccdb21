// Data-parallel training steps outside a run, for the benchmark's scaling table: N workers, each
// with a replica of the network, stepping on one fixed minibatch split among them exactly as the
// trainer splits its batches (the same ThreadGroup, the same exchange).
import { TrainConfigSchema, type TrainConfigInput } from '../../../src-shared/config';
import { createMethod } from '../train/methods';
import { resolveTrainConfig } from '../train/resolve-config';
import { emptySums } from '../train/epoch-stats';
import { ThreadGroup } from './thread-group';
import { IMAGE_VALUES } from '../../../src-shared/datasets';

export interface ParallelStepRig {
  workers: number;
  /** Images one step trains on (Free-m's replays count once each). */
  imagesPerStep: number;
  /** One data-parallel step on the fixed minibatch; resolves with its loss. */
  step(): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * Starts `workers` training workers for `config` (a TrainConfig input: method, model, batchSize,
 * backend, seed…; `workers` in it is ignored) on a fixed pseudo-random minibatch of
 * `config.batchSize` CIFAR-shaped images and 10 classes.
 */
export async function startParallelStepRig(config: TrainConfigInput, workers: number): Promise<ParallelStepRig> {
  const { config: cfg, eps, alpha, lambda } = resolveTrainConfig(TrainConfigSchema.parse({ ...config, workers }));
  const group = await ThreadGroup.start({ config: cfg, data: { numClasses: 10, mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] }, eps, alpha, workers });
  const n = cfg.batchSize;
  const x = new Float32Array(n * IMAGE_VALUES);
  for (let i = 0; i < x.length; i++) x[i] = (Math.imul(i + 1, 2654435761) >>> 8) / 2 ** 24;
  const y = Int32Array.from({ length: n }, (_, i) => (i * 7 + 1) % 10);
  const replays = createMethod(cfg).replays ?? 1;
  let b = 0;
  return {
    workers,
    imagesPerStep: n * replays,
    step: () => group.step(
      { x, y }, { epoch: 1, batch: b++, lambda, lrs: new Array(replays).fill(0.01), clean: false },
      { adv: emptySums(lambda.length), clean: emptySums(lambda.length) }, () => {},
    ),
    dispose: () => group.dispose(),
  };
}
