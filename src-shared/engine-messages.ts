// Messages between the process that owns a run (CLI or Electron main) and the engine process.
// Both sides parse every message with these schemas: a malformed message is an error, not a guess.
import { z } from 'zod';
import { TrainConfigSchema } from './config';
import { EpochMetricsSchema } from './metrics';

export const EngineCommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    runId: z.string().min(1),
    config: TrainConfigSchema,
    /** Folder for this run's checkpoints and artefacts. */
    runDir: z.string().min(1),
    /** Data folder (EXITLAB_HOME) where data sets live. */
    home: z.string().min(1),
    /** Continue from the checkpoint in runDir instead of starting afresh. */
    resume: z.boolean().default(false),
  }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('stop') }),
]);
export type EngineCommand = z.infer<typeof EngineCommandSchema>;
export type EngineCommandInput = z.input<typeof EngineCommandSchema>;

const AdapterReportSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  description: z.string(),
  /** A CPU rasteriser (SwiftShader, llvmpipe, WARP): correct but far slower than the wasm backend. */
  software: z.boolean(),
});
export type AdapterReport = z.infer<typeof AdapterReportSchema>;

export const BackendReportSchema = z.object({
  backend: z.string(),
  /** Why each backend tried before it was skipped, in the order tried. */
  skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
  /** The GPU adapter, for the webgpu backend. */
  adapter: AdapterReportSchema.optional(),
});
export type BackendReport = z.infer<typeof BackendReportSchema>;

export function describeAdapter(a: AdapterReport): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return a.description ? `${name}, ${a.description}` : name;
}

export const SOFTWARE_ADAPTER_WARNING = 'warning: this is a software adapter (the GPU is emulated on the CPU): fine for checking results, far slower than ' +
  '--backend wasm for training';

/** The backend as the run record and `runs show` name it: `webgpu (nvidia ampere, …)`. */
export function describeBackend(r: BackendReport): string {
  return r.adapter ? `${r.backend} (${describeAdapter(r.adapter)}${r.adapter.software ? ', software adapter' : ''})` : r.backend;
}

export const ModelSummarySchema = z.object({
  exits: z.number().int().positive(),
  parameters: z.number().int().nonnegative(),
  /** Multiply-accumulates of one forward pass through the whole network (all exits), per image. */
  macs: z.number().nonnegative(),
  /** Per exit: parameters and multiply-accumulates of the network up to and including that exit. */
  perExit: z.array(z.object({ exit: z.number().int(), parameters: z.number().int(), macs: z.number() })),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const FailureKindSchema = z.enum(['out-of-memory', 'nan-loss', 'engine-died', 'invalid-config', 'dataset', 'error']);
export type FailureKind = z.infer<typeof FailureKindSchema>;

export const EngineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('started'), runId: z.string(), backend: BackendReportSchema, model: ModelSummarySchema, startEpoch: z.number().int().positive() }),
  z.object({
    type: z.literal('progress'),
    epoch: z.number().int().positive(),
    epochs: z.number().int().positive(),
    batch: z.number().int().nonnegative(),
    batches: z.number().int().positive(),
    phase: z.enum(['train', 'eval']),
    loss: z.number(),
    imagesPerSecond: z.number().nonnegative(),
  }),
  z.object({ type: z.literal('epoch'), metrics: EpochMetricsSchema }),
  z.object({ type: z.literal('checkpoint'), epoch: z.number().int().nonnegative(), path: z.string(), best: z.boolean() }),
  z.object({ type: z.literal('paused') }),
  z.object({ type: z.literal('resumed') }),
  z.object({
    type: z.literal('finished'),
    status: z.enum(['completed', 'stopped']),
    epochs: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
    final: EpochMetricsSchema.nullable(),
    bestEpoch: z.number().int().nullable(),
  }),
  z.object({ type: z.literal('failed'), kind: FailureKindSchema, message: z.string() }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn']), message: z.string() }),
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;
