// An evaluation over worker threads. The attacked images are split by whole batches, in order
// (shards.ts): each worker gets a contiguous run of batches once, loads the run's network from the
// checkpoint on its own backend, then attacks its batches of every task list it is given, one
// batch at a time. Each task carries its own seed and the outcomes come back in the tasks' order,
// so the merged result equals one thread's (batch-attack.ts).
//
// A worker that fails or dies fails the whole evaluation at once with its own message; the other
// workers are ended by dispose(). Nothing waits on a dead thread.
import type { BackendName } from '../../src-shared/config';
import { EvalThreadEventSchema, type EvalThreadCommand, type EvalThreadEvent } from '../../src-shared/eval-thread-messages';
import type { BatchExecutor, BatchOutcome, ImageSet } from '../engine/eval/batch-attack';
import { batchRanges } from '../engine/parallel/shards';
import { allReplies, ThreadLink } from '../engine/parallel/thread-link';
import { checkWorkerMemory, evaluatorBytes } from '../engine/parallel/memory';
import type { PreparedEvaluation } from './eval-setup';

type EvalLink = ThreadLink<EvalThreadCommand, EvalThreadEvent>;

export interface EvalPoolOptions {
  home: string;
  prepared: PreparedEvaluation;
  workers: number;
  /** The backend this process selected; every worker runs it. */
  backend: BackendName;
  /** The attacked images; batches of `prepared.request.batchSize`. */
  images: ImageSet;
  /** The checkpoint this process loaded: a worker that finds another one (rewritten meanwhile) is refused. */
  checkpoint: { epoch: number; batchesDone: number };
  /** Free memory to check the workers against (tests); default: what the OS reports. */
  availableMemory?: number;
}

export class EvalPool {
  private constructor(private readonly links: EvalLink[], private readonly ranges: Array<[number, number]>) {}

  static async start(o: EvalPoolOptions): Promise<EvalPool> {
    const ranges = batchRanges(o.images.count, o.prepared.request.batchSize, o.workers);
    const size = o.images.x.length / o.images.count;
    const links: EvalLink[] = ranges.map(
      (_, i) => new ThreadLink(`evaluation worker ${i + 1} of ${o.workers}`, __dirname, 'eval-thread', EvalThreadEventSchema),
    );
    try {
      const loaded = await allReplies(links.map((l, i) => {
        const [from, to] = ranges[i];
        return l.call({
          type: 'load', home: o.home, prepared: o.prepared, backend: o.backend,
          x: o.images.x.slice(from * size, to * size), y: o.images.y.slice(from, to), offset: from,
        }, 'loaded');
      }));
      const other = loaded.findIndex((l) => l.epoch !== o.checkpoint.epoch || l.batchesDone !== o.checkpoint.batchesDone);
      if (other >= 0) {
        throw new Error(`evaluation worker ${other + 1} loaded another checkpoint (epoch ${loaded[other].epoch}) ` +
          `than this process (epoch ${o.checkpoint.epoch}): was the run written to meanwhile? Evaluate it again`);
      }
      const { parameters, activationBytesPerImage } = loaded[0];
      const largestShare = Math.max(...ranges.map(([from, to]) => to - from));
      const perWorker = evaluatorBytes({ parameters, activationBytesPerImage, batchImages: o.prepared.request.batchSize, imageBytes: 4 * size * largestShare });
      checkWorkerMemory('evaluation workers', o.workers, perWorker, o.availableMemory);
      return new EvalPool(links, ranges);
    } catch (err) {
      await Promise.all(links.map((l) => l.close()));
      throw err;
    }
  }

  /** Each worker runs, in order, the tasks whose batch lies in its images; the first failure ends all. */
  readonly run: BatchExecutor = async (tasks, progress) => {
    const outcomes = new Array<BatchOutcome>(tasks.length);
    let failed = false;
    await Promise.all(this.links.map(async (link, w) => {
      const [from, to] = this.ranges[w];
      for (const [i, task] of tasks.entries()) {
        if (task.start < from || task.start >= to) continue;
        if (failed) return;
        progress.started(task);
        try {
          outcomes[i] = (await link.call({ type: 'attack', task }, 'attacked')).outcome;
        } catch (err) {
          failed = true;
          throw err;
        }
        progress.done(task);
      }
    }));
    return outcomes;
  };

  /** Ends worker `index` abruptly, as a crash would (for tests of worker death). */
  terminateWorker(index: number): void {
    this.links[index].kill();
  }

  async dispose(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
  }
}
