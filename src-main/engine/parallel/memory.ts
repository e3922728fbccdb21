// Will N workers fit? A deliberately simple, conservative estimate, checked before the first step
// (or the first attacked batch) so that work too big for the machine fails at once, naming the
// memory it needs, instead of dying of an out-of-memory kill somewhere in its first minibatch.
import * as os from 'node:os';
import type * as tf from '@tensorflow/tfjs';

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

export function replicaBytes(r: { exchangeLength: number; activationBytesPerImage: number; shardImages: number }): number {
  return THREAD_BASELINE_BYTES + PARAMETER_COPIES * 4 * r.exchangeLength + ACTIVATION_COPIES * r.shardImages * r.activationBytesPerImage;
}

/**
 * An evaluation worker: its thread, the network's weights and the attack's gradient of them
 * (tfjs computes it along the input gradient), its share of the images, one batch's activations.
 */
export function evaluatorBytes(r: { parameters: number; activationBytesPerImage: number; batchImages: number; imageBytes: number }): number {
  return THREAD_BASELINE_BYTES + 2 * 4 * r.parameters + r.imageBytes + ACTIVATION_COPIES * r.batchImages * r.activationBytesPerImage;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

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
