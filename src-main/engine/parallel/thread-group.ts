// Data-parallel training over worker threads, coordinated from the engine process: the trainer's
// ReplicaGroup with one replica per thread. Each step gives every worker its contiguous shard of
// the minibatch (as even as possible, in a fixed order); the workers exchange gradients through
// shared memory and all apply the same update (all-reduce.ts), and the coordinator merges their
// losses and metric sums in replica order. Checkpoints come from worker 0 (every replica holds the
// same bits); a resume loads the checkpoint into every worker.
//
// A worker that fails or dies (a crash, running out of memory, terminate()) raises the exchange's
// abort flag, so the others leave their barrier; the step then rejects with the first worker's own
// failure: the run ends as a clear failure, never a hang, with its last checkpoint untouched.
import type { TrainConfig } from '../../../src-shared/config';
import type { ModelSummary } from '../../../src-shared/engine-messages';
import { ReplicaEventSchema, type ReplicaCommand, type ReplicaEvent } from '../../../src-shared/parallel-messages';
import { accuracyOf, addCounts, type HeldOut, type RobustAccuracy, type RobustCounts } from '../train/monitor';
import type { ExitSums } from '../train/epoch-stats';
import type { NetData, ReplicaGroup, ReplicaState, StepPosition } from '../train/replica';
import { mixSeed } from '../../random';
import { abortExchange, createExchange, type ExchangeBuffers } from './all-reduce';
import { checkWasmHeap, checkWorkerMemory, replicaBytes, type ReplicaSize } from './memory';
import { batchRanges, shardSizes } from './shards';
import { allReplies, ThreadLink } from './thread-link';
import { IMAGE_VALUES } from '../../../src-shared/datasets';

type ReplicaLink = ThreadLink<ReplicaCommand, ReplicaEvent>;

export interface ThreadGroupOptions {
  config: TrainConfig;
  data: NetData;
  /** ε and α in [0,1] pixel units. */
  eps: number;
  alpha: number;
  workers: number;
  /** Free memory to check the replicas against (default: the machine's). */
  availableMemory?: number;
}

export class ThreadGroup implements ReplicaGroup {
  private closing = false;

  private constructor(
    private readonly links: ReplicaLink[],
    private readonly exchange: ExchangeBuffers,
    readonly summary: ModelSummary,
    readonly backend: string,
    private readonly seed: number,
  ) {}

  get workers(): number {
    return this.links.length;
  }

  /** Starts the workers, has each build its replica, checks that all fit in memory, connects them. */
  static async start(o: ThreadGroupOptions): Promise<ThreadGroup> {
    let exchange: ExchangeBuffers | null = null;
    const onFailure = () => {
      if (exchange) abortExchange(exchange);
    };
    const links: ReplicaLink[] = Array.from(
      { length: o.workers },
      (_, i) => new ThreadLink(`training worker ${i + 1} of ${o.workers}`, __dirname, 'replica-thread', ReplicaEventSchema, onFailure),
    );
    try {
      const built = await allReplies(links.map((l) => l.call({ type: 'build', config: o.config, data: o.data, eps: o.eps, alpha: o.alpha }, 'built')));
      const first = built[0];
      // Same configuration and seed: the same network, weight for weight, in every worker.
      if (built.some((b) => b.exchangeLength !== first.exchangeLength || b.backend !== first.backend)) {
        throw new Error('training workers built different networks');
      }
      const size: ReplicaSize = {
        method: o.config.method, exchangeLength: first.exchangeLength, activationBytesPerImage: first.activationBytesPerImage,
        shardImages: Math.ceil(o.config.batchSize / o.workers),
      };
      checkWasmHeap(first.backend, size);
      checkWorkerMemory('training workers', o.workers, replicaBytes(size), o.availableMemory);
      exchange = createExchange(first.exchangeLength, o.workers);
      const buffers = exchange;
      await allReplies(links.map((l, index) => l.call({ type: 'attach', index, exchange: buffers }, 'attached')));
      return new ThreadGroup(links, buffers, first.summary, first.backend, o.config.seed);
    } catch (err) {
      await Promise.all(links.map((l) => l.close()));
      throw err;
    }
  }

  async step(
    batch: { x: Float32Array; y: Int32Array }, at: StepPosition, sums: { adv: ExitSums; clean: ExitSums }, checkLoss: (replay: number, loss: number) => void,
  ): Promise<number> {
    const n = batch.y.length;
    const sizes = shardSizes(n, this.workers);
    const weights = sizes.map((s) => s / n);
    const pixels = batch.x.length / n;
    let start = 0;
    const replies = await allReplies(this.links.map((l, i) => {
      const [from, to] = [start, (start += sizes[i])];
      return l.call({
        type: 'step',
        // Copies: a view would send the whole minibatch to every worker.
        x: batch.x.slice(from * pixels, to * pixels),
        y: batch.y.slice(from, to),
        lambda: at.lambda,
        lrs: at.lrs,
        seed: mixSeed(this.seed, at.epoch, at.batch, i),
        clean: at.clean,
        weights,
      }, 'stepped');
    }));
    const replays = replies[0].losses.length;
    let loss = 0;
    for (let r = 0; r < replays; r++) {
      loss = replies.reduce((a, rep, i) => a + weights[i] * rep.losses[r], 0);
      checkLoss(r, loss);
    }
    for (const rep of replies) {
      addSums(sums.adv, rep.adv);
      if (rep.clean) addSums(sums.clean, rep.clean);
    }
    return loss;
  }

  /** Whole batches of the set to each worker, in order: the counts equal a single thread's. */
  async robustAccuracy(set: HeldOut, eps: number, batchSize: number, seed: number): Promise<RobustAccuracy> {
    const ranges = batchRanges(set.count, batchSize, this.workers);
    const parts = await allReplies(ranges.flatMap(([from, to], i): Array<Promise<RobustCounts>> => (to > from ? [
      this.links[i].call(
        { type: 'probe', x: set.x.slice(from * IMAGE_VALUES, to * IMAGE_VALUES), y: set.y.slice(from, to), eps, batchSize, seed, offset: from }, 'probed',
      ).then((r) => r.counts),
    ] : [])));
    const exits = this.summary.exits;
    return accuracyOf(
      parts.length ? addCounts(parts) : { clean: new Array(exits).fill(0), fgsm: new Array(exits).fill(0), pgd: new Array(exits).fill(0), count: 0 },
    );
  }

  async fcNorms(): Promise<number[]> {
    return (await this.links[0].call({ type: 'norms' }, 'norms')).values;
  }

  async state(): Promise<ReplicaState> {
    return (await this.links[0].call({ type: 'get-state' }, 'state')).state;
  }

  /** The state of every replica, for tests that check the replicas agree bit for bit. */
  async states(): Promise<ReplicaState[]> {
    return allReplies(this.links.map(async (l) => (await l.call({ type: 'get-state' }, 'state')).state));
  }

  async load(state: ReplicaState): Promise<void> {
    await allReplies(this.links.map((l) => l.call({ type: 'set-state', state }, 'loaded')));
  }

  /** Ends worker `index` abruptly, as a crash would (for tests of worker death). */
  terminateWorker(index: number): void {
    this.links[index].kill();
  }

  async dispose(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    abortExchange(this.exchange);
    await Promise.all(this.links.map((l) => l.close()));
  }
}

function addSums(into: ExitSums, part: ExitSums): void {
  part.correct.forEach((c, e) => (into.correct[e] += c));
  part.loss.forEach((l, e) => (into.loss[e] += l));
  into.seen += part.seen;
}
