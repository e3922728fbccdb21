// Run configuration: the one definition shared by the CLI, the engine process, the store and the
// renderer. Every boundary parses with these schemas, so an invalid value is rejected where it
// enters, with a message naming the field.
import { z } from 'zod';

export const BACKENDS = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export const BackendSchema = z.enum(BACKENDS);
export type BackendName = z.infer<typeof BackendSchema>;

/**
 * Training methods. `fgsm-me` is the paper's method; the others are the baselines it is compared
 * with: `fgsm` (single-exit FGSM), `standard` (clean), `pgd-at` (Madry et al. 2018), `fgsm-rs` (FGSM
 * with random start and early stopping, Wong et al. 2020), `free` (Free-m, Shafahi et al. 2019),
 * `trades` (Zhang et al. 2019) and `gradalign` (FGSM with random start plus the gradient-alignment
 * penalty, Andriushchenko & Flammarion 2020). All but `fgsm` train every exit unless `model.exits`
 * is `last`.
 */
export const METHODS = ['fgsm-me', 'fgsm', 'standard', 'pgd-at', 'fgsm-rs', 'free', 'trades', 'gradalign'] as const;
export const MethodSchema = z.enum(METHODS);
export type Method = z.infer<typeof MethodSchema>;

/**
 * MSDNet, CIFAR variant (Huang et al., ICLR 2018). Defaults are the reference CIFAR settings of the
 * authors' code: 7 blocks, step 2 (stepmode even), base 4, 16 channels, growth rate 6, 3 scales,
 * growth/bottleneck factors 1-2-4, bottleneck on, prune max, reduction 0.5.
 */
export const ModelConfigSchema = z.object({
  arch: z.literal('msdnet').default('msdnet'),
  blocks: z.number().int().min(1).max(12).default(7),
  step: z.number().int().min(1).max(8).default(2),
  base: z.number().int().min(1).max(16).default(4),
  channels: z.number().int().min(1).max(256).default(16),
  growthRate: z.number().int().min(1).max(64).default(6),
  scales: z.number().int().min(1).max(3).default(3),
  growthFactor: z.array(z.number().int().positive()).default([1, 2, 4]),
  bottleneckFactor: z.array(z.number().int().positive()).default([1, 2, 4]),
  bottleneck: z.boolean().default(true),
  reduction: z.number().gt(0).max(1).default(0.5),
  /** Channels of the two 3x3 convolutions in each exit's head, before its fully connected layer. */
  classifierChannels: z.number().int().min(1).max(512).default(128),
  /** `last` builds a single-exit network (only the final classifier). */
  exits: z.enum(['all', 'last']).default('all'),
}).superRefine((m, ctx) => {
  if (m.growthFactor.length < m.scales || m.bottleneckFactor.length < m.scales) {
    ctx.addIssue({ code: 'custom', message: `growthFactor and bottleneckFactor need ${m.scales} entries (one per scale)` });
  }
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

const LrScheduleSchema = z.discriminatedUnion('kind', [
  /** Multiply by `factor` at each listed fraction of training (the CIFAR step schedule). */
  z.object({
    kind: z.literal('piecewise'), max: z.number().positive(), milestones: z.array(z.number().gt(0).lt(1)).default([0.5, 0.75]),
    factor: z.number().gt(0).lt(1).default(0.1),
  }),
  /** Triangular cyclic schedule of fast adversarial training: 0 → max at the middle → 0, per iteration. */
  z.object({ kind: z.literal('cyclic'), max: z.number().positive() }),
]);
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

/** Upper bound of `workers` (replicas in one engine process). */
export const MAX_WORKERS = 256;
/** `workers: null` keeps at least this many images in each replica's shard of a minibatch. */
export const MIN_SHARD_IMAGES = 8;

export const TrainConfigSchema = z.object({
  dataset: z.string().min(1).default('synthetic'),
  method: MethodSchema.default('fgsm-me'),
  model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
  epochs: z.number().int().positive().max(10_000).default(2),
  batchSize: z.number().int().positive().max(4096).default(64),
  /** L∞ radius in pixel units /255 (8 means 8/255), as papers write it. */
  eps: z.number().nonnegative().max(255).default(8),
  /**
   * FGSM / PGD step in /255; null means the method's default: ε for fgsm-me, fgsm and free (Free-m's δ
   * step), 1.25·ε for fgsm-rs and gradalign, 2 for pgd-at and trades.
   */
  alpha: z.number().positive().max(255).nullable().default(null),
  /** Steps k of the inner PGD maximisation of `pgd-at` and `trades`. */
  pgdSteps: z.number().int().min(1).max(1000).default(10),
  /** TRADES β: weight of the KL(f(x) ‖ f(x')) robustness term against the clean cross-entropy. */
  tradesBeta: z.number().nonnegative().max(1000).default(6),
  /** Free-m: replays m of each minibatch (the epoch count is divided by m, so total work matches). */
  freeReplays: z.number().int().min(1).max(100).default(8),
  /**
   * GradAlign's λ: weight of its gradient-alignment penalty λ·(1 − cos(∇ₓℓ(x), ∇ₓℓ(x + η))), used by
   * `gradalign` only. 0.2 is the value of Andriushchenko & Flammarion (NeurIPS 2020) for ε = 8/255 on
   * CIFAR-10 (`--grad_align_cos_lambda=0.2` in their sh/exps_diff_eps_cifar10.sh); they scale it
   * with ε (0.027 at 1/255 up to 2.0 at 16/255). 0 leaves FGSM with random start (fgsm-rs's step).
   */
  gradAlignLambda: z.number().nonnegative().max(100).default(0.2),
  /**
   * End the run at the epoch where catastrophic overfitting is flagged, keeping the best checkpoint
   * (Wong et al.'s early stopping). null: on for `fgsm-rs` (when keepBest is on), off otherwise.
   */
  earlyStop: z.boolean().nullable().default(null),
  /** One λ per exit: weight of the L2 penalty on that exit's fully connected weights. */
  lambda: z.array(z.number().nonnegative().max(100)).nullable().default(null),
  /** Epochs over which λ ramps linearly from 0 to its value (0: no warm-up). */
  lambdaWarmupEpochs: z.number().int().nonnegative().default(0),
  lr: LrScheduleSchema.default({ kind: 'piecewise', max: 0.1, milestones: [0.5, 0.75], factor: 0.1 }),
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().nonnegative().default(5e-4),
  augment: z.boolean().default(true),
  /** Held-out images evaluated per epoch (clean, FGSM, PGD-10). */
  evalSamples: z.number().int().nonnegative().default(200),
  /** Catastrophic-overfitting detection and best-checkpoint keeping. */
  keepBest: z.boolean().default(true),
  /** Stop after this many training batches per epoch (null: the whole set); for smoke runs and tests. */
  maxBatchesPerEpoch: z.number().int().positive().nullable().default(null),
  /** Use only the first N training images (null: all). */
  trainSamples: z.number().int().positive().nullable().default(null),
  backend: BackendSchema.default('auto'),
  /**
   * Data-parallel training replicas (worker threads), each taking a contiguous shard of every
   * minibatch. null: chosen when the run is created (the machine's available parallelism, bounded
   * so that each shard keeps at least MIN_SHARD_IMAGES images) and stored resolved. 1 trains in
   * the engine process itself.
   */
  workers: z.number().int().positive().max(MAX_WORKERS).nullable().default(null),
  seed: z.number().int().nonnegative().default(0),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/**
 * The network a run trains: its model configuration, except that `fgsm` is single-exit FGSM
 * training (the contrast the paper starts from), whatever `model.exits` says. The trainer, and
 * everything that rebuilds a run's network from its checkpoint, read it from here.
 */
export function trainedModel(cfg: TrainConfig): ModelConfig {
  return cfg.method === 'fgsm' ? { ...cfg.model, exits: 'last' } : cfg.model;
}

/** Exits of the network a run trains. */
export const exitCountOf = (cfg: TrainConfig): number => (trainedModel(cfg).exits === 'last' ? 1 : cfg.model.blocks);

/** Checks that need more than one field; returns the first problem as a sentence, or null. */
export function trainConfigProblem(cfg: TrainConfig, exitCount: number): string | null {
  if (cfg.lambda && cfg.lambda.length !== exitCount) {
    return `--lambda has ${cfg.lambda.length} value(s) but the model has ${exitCount} exit(s)`;
  }
  if (cfg.lambdaWarmupEpochs > cfg.epochs) return `λ warm-up (${cfg.lambdaWarmupEpochs} epochs) is longer than training (${cfg.epochs})`;
  if (cfg.earlyStop === true && !cfg.keepBest) return 'early stopping keeps the best checkpoint: it needs keepBest on';
  if (cfg.workers !== null && cfg.workers > cfg.batchSize) {
    return `--workers ${cfg.workers} is more than the ${cfg.batchSize} images of a batch: each worker needs at least one image of every batch`;
  }
  return null;
}

/** Formats a zod error as one line: `field: problem; field: problem`, the first `max` problems. */
export function describeZodError(err: z.ZodError, max = Infinity): string {
  const shown = err.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
  return err.issues.length > max ? `${shown}; and ${err.issues.length - max} more` : shown;
}
