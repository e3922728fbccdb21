// How many worker threads a training run or an evaluation uses, and how a minibatch (or an
// evaluation set) is divided among them. No tfjs here: `workers` is resolved before any engine starts.
import * as os from 'node:os';
import { MIN_SHARD_IMAGES, type TrainConfig } from '../../../src-shared/config';

/** Backends whose work a worker thread can take: the single-threaded CPU ones. */
export const THREADED_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * `workers: null`: one worker per core, but no more than there are `units` of work to give them
 * (a worker with nothing to do would only cost memory and start-up time).
 */
export function autoWorkers(units: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(units)));
}

/** The configuration with `workers` resolved, as the run stores it: no shard under MIN_SHARD_IMAGES images. */
export function withResolvedWorkers(config: TrainConfig, cores?: number): TrainConfig {
  return config.workers === null ? { ...config, workers: autoWorkers(config.batchSize / MIN_SHARD_IMAGES, cores) } : config;
}

/** Batches of `batchSize` in a `count`-item set, the last one possibly short. */
export function batchCount(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
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
  let start = 0;
  return shardSizes(batchCount(count, batchSize), parts).map((b) => {
    const end = Math.min(count, start + b * batchSize);
    const range: [number, number] = [start, end];
    start = end;
    return range;
  });
}
