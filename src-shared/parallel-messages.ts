// Messages between the engine process and its data-parallel training workers (worker threads).
// Every command gets exactly one reply: its result, or `failed`. Both sides parse every message
// with these schemas, as at every other process boundary.
import { z } from 'zod';
import { TrainConfigSchema } from './config';
import { ModelSummarySchema } from './engine-messages';

/** Any float, NaN and ±Infinity included: a diverging loss must reach the trainer to be reported. */
const Float = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const TensorSchema = z.object({
  name: z.string(), shape: z.array(z.number().int().nonnegative()), data: z.custom<Float32Array>((v) => v instanceof Float32Array, 'expected a Float32Array'),
});
const StateSchema = z.object({ weights: z.array(TensorSchema), optimizer: z.array(TensorSchema) });
const ExitSumsSchema = z.object({ correct: z.array(Float), loss: z.array(Float), seen: z.number().int().nonnegative() });
const CountsSchema = z.object({ clean: z.array(z.number()), fgsm: z.array(z.number()), pgd: z.array(z.number()), count: z.number().int().nonnegative() });
const ImagesSchema = { x: z.instanceof(Float32Array), y: z.instanceof(Int32Array) };

export const ReplicaCommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('build'),
    config: TrainConfigSchema,
    data: z.object({
      numClasses: z.number().int().positive(), mean: z.tuple([z.number(), z.number(), z.number()]), std: z.tuple([z.number(), z.number(), z.number()]),
    }),
    /** ε and α in [0,1] pixel units. */
    eps: z.number().nonnegative(),
    alpha: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('attach'),
    index: z.number().int().nonnegative(),
    exchange: z.object({
      control: z.instanceof(SharedArrayBuffer), slots: z.instanceof(SharedArrayBuffer), results: z.instanceof(SharedArrayBuffer),
      length: z.number().int().positive(), replicas: z.number().int().positive(),
    }),
  }),
  z.object({
    type: z.literal('step'),
    ...ImagesSchema,
    lambda: z.array(z.number()),
    lrs: z.array(z.number()),
    seed: z.number().int(),
    clean: z.boolean(),
    /** Each replica's share of the minibatch (shard size / batch size), in replica order. */
    weights: z.array(z.number().nonnegative()),
  }),
  z.object({
    type: z.literal('probe'), ...ImagesSchema, eps: z.number().nonnegative(), batchSize: z.number().int().positive(), seed: z.number().int(),
    offset: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('norms') }),
  z.object({ type: z.literal('get-state') }),
  z.object({ type: z.literal('set-state'), state: StateSchema }),
]);
export type ReplicaCommand = z.infer<typeof ReplicaCommandSchema>;

export const ReplicaEventSchema = z.discriminatedUnion('type', [
  /** The thread listens: commands sent before this are held by the host. */
  z.object({ type: z.literal('ready') }),
  z.object({
    type: z.literal('built'),
    summary: ModelSummarySchema,
    backend: z.string(),
    /** Floats exchanged per step: every trainable weight's gradient and every batch-norm statistic. */
    exchangeLength: z.number().int().positive(),
    /** Bytes of every layer's output for one image (the activations a step keeps per image). */
    activationBytesPerImage: z.number().nonnegative(),
  }),
  z.object({ type: z.literal('attached') }),
  z.object({ type: z.literal('stepped'), losses: z.array(Float), adv: ExitSumsSchema, clean: ExitSumsSchema.nullable() }),
  z.object({ type: z.literal('probed'), counts: CountsSchema }),
  z.object({ type: z.literal('norms'), values: z.array(Float) }),
  z.object({ type: z.literal('state'), state: StateSchema }),
  z.object({ type: z.literal('loaded') }),
  /** The command failed; `aborted`: because another replica failed first (not this one's fault). */
  z.object({ type: z.literal('failed'), message: z.string(), aborted: z.boolean() }),
]);
export type ReplicaEvent = z.infer<typeof ReplicaEventSchema>;
