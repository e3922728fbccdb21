// How fast the input pipeline alone delivers batches (for the benchmark: it must stay far ahead of
// the engine, which consumes batches much more slowly).
import { BatchPipeline, type PipelineOptions } from './pipeline';
import type { Split } from './types';

export interface PipelineThroughput {
  batchSize: number;
  batches: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  msPerBatch: number;
}

/** Pulls batches (epoch after epoch) for at least `minSeconds` and reports the rate. */
export async function measurePipeline(split: Split, opts: PipelineOptions, minSeconds = 1): Promise<PipelineThroughput> {
  const pipeline = new BatchPipeline(split, opts);
  let batches = 0;
  let images = 0;
  const t0 = performance.now();
  let elapsed = 0;
  for (let epoch = 0; elapsed < minSeconds * 1000; epoch++) {
    for await (const batch of pipeline.epoch(epoch)) {
      batches++;
      images += batch.size;
      elapsed = performance.now() - t0;
      if (elapsed >= minSeconds * 1000) break;
    }
  }
  const seconds = elapsed / 1000;
  return { batchSize: opts.batchSize, batches, images, seconds, imagesPerSecond: images / seconds, msPerBatch: elapsed / batches };
}
