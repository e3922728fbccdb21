// Messages between an evaluation and its worker threads (`exitlab eval --workers N`, the app's
// Robustness view). Every command gets exactly one reply: its result, or `failed`. Both sides parse
// every message with these schemas, as at every other process boundary.
import { z } from 'zod';
import { BackendSchema } from './config';
import { DatasetManifestSchema } from './datasets';
import { EvalAttackSchema, EvalRequestSchema } from './evaluation';
import { RunDetailSchema } from './runs';

export const EvalThreadCommandSchema = z.discriminatedUnion('type', [
  /** Load the run's network from its checkpoint and keep the worker's images: [offset, offset + y.length). */
  z.object({
    type: z.literal('load'),
    home: z.string(),
    prepared: z.object({ request: EvalRequestSchema, detail: RunDetailSchema, dataset: DatasetManifestSchema }),
    /** The backend the evaluation selected (never `auto`: every worker runs the same one). */
    backend: BackendSchema,
    x: z.instanceof(Float32Array),
    y: z.instanceof(Int32Array),
    offset: z.number().int().nonnegative(),
  }),
  /** One attack on one batch; start and end index the whole evaluated set. */
  z.object({
    type: z.literal('attack'),
    task: z.object({
      attack: EvalAttackSchema,
      eps: z.number().nonnegative(),
      thresholds: z.array(z.number()),
      start: z.number().int().nonnegative(),
      end: z.number().int().nonnegative(),
      seed: z.number().int(),
    }),
  }),
]);
export type EvalThreadCommand = z.infer<typeof EvalThreadCommandSchema>;

export const EvalThreadEventSchema = z.discriminatedUnion('type', [
  /** The thread listens: commands sent before this are held by the host. */
  z.object({ type: z.literal('ready') }),
  /** The checkpoint the worker loaded, to check that every worker evaluates the same one. */
  z.object({
    type: z.literal('loaded'), epoch: z.number().int().nonnegative(), batchesDone: z.number().int().nonnegative(),
    /** What the memory check before the first batch needs: weights, and activation bytes per image. */
    parameters: z.number().int().nonnegative(), activationBytesPerImage: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('attacked'),
    outcome: z.object({
      robust: z.array(z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array')),
      taken: z.array(z.custom<Int32Array>((v) => v instanceof Int32Array, 'expected an Int32Array')),
      gains: z.record(z.string(), z.array(z.number().int().nonnegative())),
      seconds: z.number().nonnegative(),
    }),
  }),
  z.object({ type: z.literal('failed'), message: z.string(), aborted: z.boolean() }),
]);
export type EvalThreadEvent = z.infer<typeof EvalThreadEventSchema>;
