// Will N replicas fit? A deliberately simple, conservative estimate, checked before the first step
// so that a run too big for the machine fails at once, naming the memory it needs, instead of
// dying of an out-of-memory kill somewhere in its first minibatch.
import * as os from 'node:os';

/** A worker thread's own cost before any tensor: its JS heap, the wasm module and its heap. */
const THREAD_BASELINE_BYTES = 96 * 2 ** 20;
/**
 * Activation copies a step holds at its peak: the forward outputs kept for the backward pass, the
 * gradients flowing back through them, and the attack's forward/backward before it.
 */
const ACTIVATION_COPIES = 3;
/** Weights, momentum, gradient, its slot in the shared exchange and the mean read back from it. */
const PARAMETER_COPIES = 5;

export class NotEnoughMemoryError extends Error {}

export function replicaBytes(r: { exchangeLength: number; activationBytesPerImage: number; shardImages: number }): number {
  return THREAD_BASELINE_BYTES + PARAMETER_COPIES * 4 * r.exchangeLength + ACTIVATION_COPIES * r.shardImages * r.activationBytesPerImage;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Throws NotEnoughMemoryError when `workers` replicas of `perReplica` bytes exceed what is free. */
export function checkReplicaMemory(workers: number, perReplica: number, available = os.freemem()): void {
  const needed = workers * perReplica;
  if (needed <= available) return;
  throw new NotEnoughMemoryError(
    `not enough memory for ${workers} training workers: they need about ${gib(needed)} (${workers} × ${gib(perReplica)}) ` +
      `and ${gib(available)} is available; use fewer --workers or a smaller --batch-size`,
  );
}
