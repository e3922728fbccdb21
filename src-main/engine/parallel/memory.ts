// Will N workers fit? A deliberately simple, conservative estimate, checked before the first step
// (or the first attacked batch) so that work too big for the machine fails at once, naming the
// memory it needs, instead of dying of an out-of-memory kill somewhere in its first minibatch.
import * as os from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import type { Method } from '../../../src-shared/config';

/** A worker thread's own cost before any tensor: its JS heap, the wasm module and its heap. */
const THREAD_BASELINE_BYTES = 96 * 2 ** 20;
/**
 * Activation copies a step holds at its peak: the forward outputs kept for the backward pass, the
 * gradients flowing back through them, and the attack's forward/backward before it. Measured as the
 * wasm heap's growth over one step of the reference MSDNet at batch 32, in units of its 7.7 MiB of
 * layer outputs per image: 2.95 for fgsm-me, fgsm-rs and pgd-at (PGD's steps do not keep each
 * other's graphs); 5.7 for TRADES, whose KL term keeps the clean and the adversarial forward passes;
 * 6.1 for GradAlign, whose double backprop keeps the first input gradient's graph for the second.
 */
const ACTIVATION_COPIES = 3;
const ACTIVATION_COPIES_OF: Partial<Record<Method, number>> = { trades: 6, gradalign: 6.5 };
const activationCopies = (method: Method): number => ACTIVATION_COPIES_OF[method] ?? ACTIVATION_COPIES;
/**
 * tfjs-backend-wasm grows its heap to at most 4 GiB − 64 KiB (its getHeapMax()), and every tensor of a
 * thread lives there: a step past it fails deep inside a kernel with a message that names nothing.
 */
const WASM_HEAP_BYTES = 4294901760;
/** Weights, momentum, gradient, its slot in the shared exchange and the mean read back from it. */
const PARAMETER_COPIES = 5;

export class NotEnoughMemoryError extends Error {}

/** Bytes of every layer's output for one image: the activations a step holds per image. */
export function activationBytesPerImage(model: Pick<tf.LayersModel, 'layers'>): number {
  let floats = 0;
  for (const layer of model.layers) {
    const shapes = (
      Array.isArray(layer.outputShape[0]) || layer.outputShape.length === 0 ? layer.outputShape : [layer.outputShape]
    ) as Array<Array<number | null>>;
    for (const shape of shapes) floats += shape.reduce<number>((a, d) => a * (d ?? 1), 1);
  }
  return 4 * floats;
}

export interface ReplicaSize {
  method: Method;
  exchangeLength: number;
  activationBytesPerImage: number;
  shardImages: number;
}

/** The tensors of one training replica at the peak of a step on its shard. */
const replicaTensorBytes = (r: ReplicaSize) =>
  PARAMETER_COPIES * 4 * r.exchangeLength + activationCopies(r.method) * r.shardImages * r.activationBytesPerImage;

export const replicaBytes = (r: ReplicaSize): number => THREAD_BASELINE_BYTES + replicaTensorBytes(r);

/**
 * An evaluation worker: its thread, the network's weights and the attack's gradient of them
 * (tfjs computes it along the input gradient), its share of the images, one batch's activations.
 */
export function evaluatorBytes(r: { parameters: number; activationBytesPerImage: number; batchImages: number; imageBytes: number }): number {
  return THREAD_BASELINE_BYTES + 2 * 4 * r.parameters + r.imageBytes + ACTIVATION_COPIES * r.batchImages * r.activationBytesPerImage;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Throws NotEnoughMemoryError when, on wasm, one replica's step would not fit in a thread's heap: more
 * workers split the batch into smaller shards, which is the way out where the machine has the memory.
 */
export function checkWasmHeap(backend: string, r: ReplicaSize): void {
  const needed = replicaTensorBytes(r);
  if (backend !== 'wasm' || needed <= WASM_HEAP_BYTES) return;
  throw new NotEnoughMemoryError(
    `a ${r.method} step on ${r.shardImages} images per worker needs about ${gib(needed)} of tensors, and one wasm thread holds at most ` +
      `${gib(WASM_HEAP_BYTES)}; use more --workers (each takes a share of the batch) or a smaller --batch-size`,
  );
}

/**
 * Throws NotEnoughMemoryError when `workers` workers of `perWorker` bytes exceed what is free;
 * `what` names them ("training workers"), as the message does.
 */
export function checkWorkerMemory(what: string, workers: number, perWorker: number, available = os.freemem()): void {
  const needed = workers * perWorker;
  if (needed <= available) return;
  throw new NotEnoughMemoryError(
    `not enough memory for ${workers} ${what}: they need about ${gib(needed)} (${workers} × ${gib(perWorker)}) ` +
      `and ${gib(available)} is available; use fewer --workers or a smaller --batch-size`,
  );
}
