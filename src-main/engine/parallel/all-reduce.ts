// The gradient exchange of data-parallel training, through shared memory. Each replica writes its
// flat gradient (and its batch-norm moving statistics) into its own slot and waits at a barrier;
// then each replica sums its own 1/N of the elements over the slots, in the fixed order 0..N-1
// weighted by shard size, into a shared result; after a second barrier every replica reads the
// whole result. Each element is computed once, so every replica gets the same bits and applies
// the same SGD update: the replicas never drift apart. (Splitting the sum this way costs each
// replica P/N multiply-adds per slot instead of P, for P exchanged floats.) The two barriers also
// make one set of buffers enough: slots are read only between the first and second barrier and
// written before the next first one; the result is read after the second barrier and written
// only after the next first one, which nobody passes before everyone has read it.
//
// A replica that dies would leave the others waiting forever; the coordinator instead raises the
// abort flag and wakes them, and the barrier throws ReplicaAbortedError.

const ARRIVED = 0;
const GENERATION = 1;
const ABORT = 2;
const CONTROL_INTS = 3;
/** A waiting replica re-checks the abort flag at least this often. */
const WAIT_SLICE_MS = 500;

export class ReplicaAbortedError extends Error {}

/** The shared buffers of one group of replicas: plain SharedArrayBuffers, sent to each thread. */
export interface ExchangeBuffers {
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  results: SharedArrayBuffer;
  /** Floats exchanged per replica per step. */
  length: number;
  replicas: number;
}

export function createExchange(length: number, replicas: number): ExchangeBuffers {
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * Int32Array.BYTES_PER_ELEMENT),
    slots: new SharedArrayBuffer(replicas * length * Float32Array.BYTES_PER_ELEMENT),
    results: new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT),
    length,
    replicas,
  };
}

/** Releases every replica waiting at the barrier with ReplicaAbortedError, now and from now on. */
export function abortExchange(buffers: ExchangeBuffers): void {
  const control = new Int32Array(buffers.control);
  Atomics.store(control, ABORT, 1);
  Atomics.notify(control, GENERATION);
}

/** One replica's side of the exchange. */
export class AllReduce {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private readonly results: Float32Array;
  /** The elements this replica sums: [from, to). */
  private readonly from: number;
  private readonly to: number;

  constructor(private readonly buffers: ExchangeBuffers, private readonly index: number) {
    this.control = new Int32Array(buffers.control);
    this.slots = new Float32Array(buffers.slots);
    this.results = new Float32Array(buffers.results);
    const part = Math.ceil(buffers.length / buffers.replicas);
    this.from = Math.min(buffers.length, index * part);
    this.to = Math.min(buffers.length, this.from + part);
  }

  /** This replica's slot for the coming exchange: write its contribution here, then call `reduce`. */
  slot(): Float32Array {
    return this.slotOf(this.index);
  }

  /**
   * Waits for every replica's contribution, then returns Σ_i weights[i]·slot_i (summed in order,
   * in double precision, rounded once), the same bits on every replica.
   */
  reduce(weights: number[]): Float32Array {
    if (weights.length !== this.buffers.replicas) throw new Error(`${weights.length} weights for ${this.buffers.replicas} replicas`);
    this.barrier();
    const result = this.results;
    const slots = weights.map((_, r) => this.slotOf(r));
    for (let j = this.from; j < this.to; j++) {
      let acc = 0;
      for (let r = 0; r < slots.length; r++) acc += weights[r] * slots[r][j];
      result[j] = acc;
    }
    this.barrier();
    // A copy: the shared result is rewritten by the next exchange.
    return result.slice();
  }

  private slotOf(replica: number): Float32Array {
    const n = this.buffers.length;
    const start = replica * n;
    return this.slots.subarray(start, start + n);
  }

  private barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.load(c, ABORT)) throw new ReplicaAbortedError('the step was aborted: another training worker failed');
    if (Atomics.add(c, ARRIVED, 1) === this.buffers.replicas - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    while (Atomics.load(c, GENERATION) === generation) {
      if (Atomics.load(c, ABORT)) throw new ReplicaAbortedError('the step was aborted: another training worker failed');
      Atomics.wait(c, GENERATION, generation, WAIT_SLICE_MS);
    }
  }
}
