// The gradient exchange of data-parallel training, through shared memory. Each replica writes its
// flat gradient (and its batch-norm moving statistics) into its own slot, waits at a barrier, then
// every replica sums the slots in the fixed order 0..N-1 weighted by shard size. The arithmetic is
// the same on every replica, so all of them get the same bits and apply the same SGD update: the
// replicas never drift apart. Slots are double-buffered (even and odd exchanges), so one barrier
// per exchange suffices: a replica can only write the slot it is about to overwrite again after
// every other replica has passed the next barrier, i.e. has finished reading it.
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
  /** Floats exchanged per replica per step. */
  length: number;
  replicas: number;
}

export function createExchange(length: number, replicas: number): ExchangeBuffers {
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * Int32Array.BYTES_PER_ELEMENT),
    slots: new SharedArrayBuffer(2 * replicas * length * Float32Array.BYTES_PER_ELEMENT),
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
  private parity = 0;

  constructor(private readonly buffers: ExchangeBuffers, private readonly index: number) {
    this.control = new Int32Array(buffers.control);
    this.slots = new Float32Array(buffers.slots);
  }

  /** This replica's slot for the coming exchange: write its contribution here, then call `reduce`. */
  slot(): Float32Array {
    return this.slotOf(this.parity, this.index);
  }

  /**
   * Waits for every replica's contribution, then returns Σ_i weights[i]·slot_i (summed in order,
   * in double precision, rounded once), the same bits on every replica.
   */
  reduce(weights: number[]): Float32Array {
    if (weights.length !== this.buffers.replicas) throw new Error(`${weights.length} weights for ${this.buffers.replicas} replicas`);
    this.barrier();
    const n = this.buffers.length;
    const acc = new Float64Array(n);
    for (let r = 0; r < weights.length; r++) {
      const s = this.slotOf(this.parity, r);
      const w = weights[r];
      for (let j = 0; j < n; j++) acc[j] += w * s[j];
    }
    this.parity ^= 1;
    return Float32Array.from(acc);
  }

  private slotOf(parity: number, replica: number): Float32Array {
    const n = this.buffers.length;
    const start = (parity * this.buffers.replicas + replica) * n;
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
