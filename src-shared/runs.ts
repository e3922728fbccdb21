// What the run store answers: run lists, one run's full history, comparisons of several runs, and
// the records written beside them (evaluations, checkpoints, artefacts). The UI, the CLI and run
// bundles all read these shapes, so they are schemas, not just types.
import { z } from 'zod';
import { MethodSchema, TrainConfigSchema } from './config';
import { DatasetManifestSchema } from './datasets';
import { FailureKindSchema, ModelSummarySchema } from './engine-messages';
import { EpochMetricsSchema } from './metrics';

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** Statuses of a run whose engine is (or should be) going. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running', 'paused'];

/** Statuses from which `runs resume` can continue (given a checkpoint). */
export const RESUMABLE_STATUSES: readonly RunStatus[] = ['stopped', 'failed', 'interrupted'];

/** `runs-…` ids are made by the app; imported bundles keep theirs, so only the character set is fixed. */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a run id is letters, digits, dots, dashes and underscores');

export const TagSchema = z.string().trim().min(1).max(64).regex(/^[^\s,]+$/, 'a tag has no spaces or commas');

export const RunFilterSchema = z.object({
  dataset: z.string().optional(),
  method: MethodSchema.optional(),
  status: RunStatusSchema.optional(),
  tag: z.string().optional(),
  limit: z.number().int().positive().max(10_000).optional(),
});
export type RunFilter = z.infer<typeof RunFilterSchema>;

const RunFailureSchema = z.object({ kind: FailureKindSchema, message: z.string() });

/** One line of a run list. */
export const RunNameSchema = z.string().max(200);

export const RunSummarySchema = z.object({
  id: RunIdSchema,
  /** The user's label for the run ('' when none was given). */
  name: RunNameSchema,
  dataset: z.string(),
  method: MethodSchema,
  /** "msdnet 7×2, 16ch" style one-liner of the model configuration. */
  model: z.string(),
  /** Backend asked for in the configuration, and the one that ran (null before the engine started). */
  backend: z.string(),
  backendUsed: z.string().nullable(),
  codeVersion: z.string(),
  seed: z.number().int(),
  status: RunStatusSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** Training and evaluation time of the engine, summed over sessions of a resumed run. */
  seconds: z.number().nonnegative(),
  epochsDone: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  failure: RunFailureSchema.nullable(),
  tags: z.array(z.string()),
  /** Held-out accuracy of each exit at the last recorded epoch (empty before the first epoch). */
  lastEpoch: z.object({
    epoch: z.number().int(),
    valCleanAcc: z.array(z.number()),
    valPgdAcc: z.array(z.number()),
  }).nullable(),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const EarlyExitResultSchema = z.object({
  /** Softmax-confidence threshold per exit (the last exit always answers). */
  thresholds: z.array(z.number()),
  accuracy: z.number(),
  /** Mean multiply-accumulates per image when each image leaves at its first confident exit. */
  averageMacs: z.number().nonnegative().nullable(),
  /** Share of images leaving at each exit. */
  exitShare: z.array(z.number()).nullable(),
  /** Below the cheapest exit's cost no threshold can meet the budget: the accuracy then answers nothing. */
  feasible: z.boolean().default(true),
  /** Whether the attack aimed at the early-exit model (targets average and max-average do). */
  aimed: z.boolean().default(true),
});

export const EvaluationInputSchema = z.object({
  /** 'clean', 'fgsm', 'pgd', 'cw', 'autoattack', … */
  attack: z.string().min(1),
  /** L∞ radius in /255 (0 for clean). */
  eps: z.number().nonnegative(),
  steps: z.number().int().nonnegative(),
  samples: z.number().int().positive(),
  /** Which checkpoint was evaluated: 'last', 'best' or an epoch number as text. */
  checkpoint: z.string().default('last'),
  perExitAcc: z.array(z.number().min(0).max(1)),
  earlyExit: EarlyExitResultSchema.nullable().default(null),
  /** The exits the attack aimed at (`max-average`, `exit:3`, …); null for records older than version 6. */
  target: z.string().nullable().default(null),
  /**
   * Per exit, the target its accuracy answers, or null where the attack aimed elsewhere: that number
   * only says what an attack on other exits did to this one, and overstates its robustness.
   */
  aimedAt: z.array(z.string().nullable()).nullable().default(null),
});
export type EvaluationInput = z.input<typeof EvaluationInputSchema>;

export const EvaluationSchema = EvaluationInputSchema.extend({
  id: z.number().int(),
  createdAt: z.string(),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;

/** An evaluation's accuracies as a view may show them: null where the attack did not aim at that exit. */
export function aimedAccuracies(e: Pick<Evaluation, 'perExitAcc' | 'aimedAt' | 'earlyExit'>): { perExit: Array<number | null>; earlyExit: number | null } {
  return {
    perExit: e.perExitAcc.map((acc, exit) => (e.aimedAt && e.aimedAt[exit] === null ? null : acc)),
    earlyExit: e.earlyExit && e.earlyExit.feasible && e.earlyExit.aimed ? e.earlyExit.accuracy : null,
  };
}

/** The checkpoints a run keeps: its last, and (with keepBest) the one with the best held-out PGD accuracy. */
export const CHECKPOINT_KINDS = ['last', 'best'] as const;
export const CheckpointKindSchema = z.enum(CHECKPOINT_KINDS);
export type CheckpointKind = z.infer<typeof CheckpointKindSchema>;
/**
 * What `exitlab eval`, `exitlab export` and the app use when no checkpoint is named: one default,
 * so that what is exported is what was evaluated. The last one: it is what training produced,
 * whereas "best" was chosen on the held-out images and exists only when the run kept it.
 */
export const DEFAULT_CHECKPOINT: CheckpointKind = 'last';

const CheckpointRecordSchema = z.object({
  kind: CheckpointKindSchema,
  /** Epochs completed when it was written (a checkpoint written on stop lies inside the next epoch). */
  epoch: z.number().int().nonnegative(),
  /** Path relative to the run's folder. */
  path: z.string(),
  writtenAt: z.string(),
});
export type CheckpointRecord = z.infer<typeof CheckpointRecordSchema>;

const ArtefactRecordSchema = z.object({
  id: z.number().int(),
  /** 'export-tfjs', 'export-onnx', 'bundle', … */
  kind: z.string(),
  /** Absolute path, or relative to the run's folder when the artefact lives inside it. */
  path: z.string(),
  createdAt: z.string(),
  meta: z.record(z.string(), z.unknown()),
});
export type ArtefactRecord = z.infer<typeof ArtefactRecordSchema>;

/** Everything known about one run. */
export const RunDetailSchema = z.object({
  summary: RunSummarySchema,
  config: TrainConfigSchema,
  modelSummary: ModelSummarySchema.nullable(),
  dataset: DatasetManifestSchema.nullable(),
  epochs: z.array(EpochMetricsSchema),
  evaluations: z.array(EvaluationSchema),
  checkpoints: z.array(CheckpointRecordSchema),
  artefacts: z.array(ArtefactRecordSchema),
  notes: z.string(),
});
export type RunDetail = z.infer<typeof RunDetailSchema>;

export const CURVE_METRICS = [
  'trainCleanAcc', 'trainCleanLoss', 'trainAdvAcc', 'trainAdvLoss', 'fcWeightNorm', 'lambda', 'valCleanAcc', 'valFgsmAcc', 'valPgdAcc',
] as const;
const CurveMetricSchema = z.enum(CURVE_METRICS);
export type CurveMetric = z.infer<typeof CurveMetricSchema>;

const CurveSchema = z.array(z.number().nullable());

export const RunComparisonSchema = z.object({
  runs: z.array(RunSummarySchema),
  /** Configuration fields (dotted paths) whose values differ, with one value per run (null: absent). */
  configDiff: z.array(z.object({ path: z.string(), values: z.array(z.unknown()) })),
  /** Epoch numbers shared by every curve below; a run without that epoch has null there. */
  epochs: z.array(z.number().int()),
  curves: z.array(z.object({
    runId: z.string(),
    exits: z.array(z.object({ exit: z.number().int(), metrics: z.record(CurveMetricSchema, CurveSchema) })),
  })),
  /**
   * Accuracy per exit under each attack. Stored evaluations come first; the held-out clean / FGSM /
   * PGD-10 accuracy of the last epoch is always there too (source 'last-epoch').
   */
  robustness: z.array(z.object({
    runId: z.string(),
    attack: z.string(),
    eps: z.number(),
    steps: z.number().int(),
    samples: z.number().int().nullable(),
    source: z.enum(['evaluation', 'last-epoch']),
    perExitAcc: z.array(z.number().nullable()),
    earlyExitAcc: z.number().nullable(),
  })),
  timing: z.array(z.object({
    runId: z.string(),
    seconds: z.number(),
    epochs: z.number().int(),
    secondsPerEpoch: z.number().nullable(),
    /** Training images per second, averaged over the recorded epochs (weighted by their time). */
    imagesPerSecond: z.number().nullable(),
  })),
});
export type RunComparison = z.infer<typeof RunComparisonSchema>;

export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
const ExportFormatSchema = z.enum(EXPORT_FORMATS);

/** What `exitlab export` and the app's export dialog ask for. */
export const ExportRequestSchema = z.object({
  runId: RunIdSchema,
  format: ExportFormatSchema,
  /** 1-based exit to export alone (1 = the shallowest); null exports the whole multi-exit network. */
  exit: z.number().int().positive().nullable().default(null),
  /** Folder to create; it must not exist yet. */
  out: z.string().min(1),
  /** Which checkpoint; null: DEFAULT_CHECKPOINT, as an evaluation uses. */
  checkpoint: CheckpointKindSchema.nullable().default(null),
});
export type ExportRequest = z.input<typeof ExportRequestSchema>;

/** metadata.json, written beside every exported model. */
export const ExportMetadataSchema = z.object({
  format: z.literal('exitlab-model-export'),
  formatVersion: z.literal(1),
  exportedAt: z.string(),
  exporterVersion: z.string(),
  model: z.object({
    format: z.enum(['tfjs-layers', 'onnx']),
    files: z.array(z.string()),
    input: z.object({
      name: z.string(),
      shape: z.array(z.number().nullable()),
      layout: z.literal('NHWC'),
      dtype: z.literal('float32'),
      /** The network takes normalised pixels: x = (pixel / 255 - mean[c]) / std[c]. */
      preprocessing: z.string(),
    }),
    outputs: z.array(z.object({ name: z.string(), exit: z.number().int().positive(), content: z.literal('logits') })),
  }),
  /** Exported exit (1-based), or null for the whole network. */
  exportedExit: z.number().int().positive().nullable(),
  exits: z.array(z.object({
    exit: z.number().int().positive(),
    parameters: z.number().int(),
    macs: z.number(),
    /** 2 FLOPs per multiply-accumulate, for one image up to and including this exit. */
    flops: z.number(),
    exported: z.boolean(),
  })),
  checkpoint: z.object({ kind: z.enum(['last', 'best']), epoch: z.number().int(), batchesDone: z.number().int() }),
  dataset: z.object({
    id: z.string(), name: z.string(), source: z.string(), classes: z.array(z.string()), mean: z.array(z.number()), std: z.array(z.number()),
  }),
  /** Early-exit confidence thresholds per exit, from the latest evaluation that set them (null: none yet). */
  earlyExit: z.object({ thresholds: z.array(z.number()), accuracy: z.number(), evaluationId: z.number().int() }).nullable(),
  robustness: z.object({
    /** Held-out accuracy per exit at the exported checkpoint's epoch (clean, FGSM, PGD-10 at the run's ε). */
    epoch: z.object({
      epoch: z.number().int(),
      eps: z.number(),
      perExit: z.array(z.object({ exit: z.number().int().positive(), clean: z.number(), fgsm: z.number(), pgd10: z.number() })),
    }).nullable(),
    evaluations: z.array(EvaluationSchema),
  }),
  run: z.object({
    id: z.string(),
    name: z.string(),
    method: z.string(),
    status: RunStatusSchema,
    seed: z.number().int(),
    codeVersion: z.string(),
    backend: z.string().nullable(),
    config: TrainConfigSchema,
  }),
});
export type ExportMetadata = z.infer<typeof ExportMetadataSchema>;
