// How many replicas a run uses and how a minibatch (or an evaluation set) is divided among them.
// No tfjs here: the process that creates a run resolves `workers` before the engine starts.
import * as os from 'node:os';
import { MIN_SHARD_IMAGES, type TrainConfig } from '../../../src-shared/config';

/** `workers: null`: one replica per core, but no shard smaller than MIN_SHARD_IMAGES images. */
export function autoWorkers(batchSize: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(batchSize / MIN_SHARD_IMAGES)));
}

/** The configuration with `workers` resolved, as the run stores it. */
export function withResolvedWorkers(config: TrainConfig, cores?: number): TrainConfig {
  return config.workers === null ? { ...config, workers: autoWorkers(config.batchSize, cores) } : config;
}

/**
 * Sizes of `parts` contiguous shards of `count` items, as even as possible, larger ones first:
 * the same for every replica, so all of them agree on which images are whose.
 */
export function shardSizes(count: number, parts: number): number[] {
  const base = Math.floor(count / parts);
  const extra = count % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Whole batches of `batchSize` items of a `count`-item set, divided among `parts` workers in
 * order, as [start, end) item ranges. Whole batches keep every batch what the single-thread loop
 * would see, so per-batch seeds and results do not depend on the number of workers.
 */
export function batchRanges(count: number, batchSize: number, parts: number): Array<[number, number]> {
  const batches = Math.ceil(count / batchSize);
  let start = 0;
  return shardSizes(batches, parts).map((b) => {
    const end = Math.min(count, start + b * batchSize);
    const range: [number, number] = [start, end];
    start = end;
    return range;
  });
}
