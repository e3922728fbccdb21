// Robustness evaluation reports: what `exitlab eval` writes (stdout and a file in the run folder)
// and what the paper-style table reads back. Accuracies are fractions of the evaluated images.
import { z } from 'zod';

/** Attacks the evaluation runs; aa is AutoAttack, the others its components or classic attacks. */
export const EVAL_ATTACKS = ['clean', 'fgsm', 'pgd20', 'pgd50', 'cw', 'aa', 'apgd-ce', 'apgd-t', 'fab-t', 'square'] as const;
export const EvalAttackSchema = z.enum(EVAL_ATTACKS);
export type EvalAttack = z.infer<typeof EvalAttackSchema>;

/** Which exits the attacks' losses look at: `exit:N` (1-based), `average`, `max-average`. */
export const EvalTargetSchema = z.string().regex(/^(average|max-average|exit:[1-9][0-9]*)$/, 'a target is average, max-average or exit:N');

export const EarlyExitPointSchema = z.object({
  /** Budget as a fraction of the last exit's cost, and in MACs per image. */
  fraction: z.number().positive(),
  budgetMacs: z.number().nonnegative(),
  /** Softmax-confidence threshold calibrated on held-out clean images (≥ 1: everything to the last exit). */
  threshold: z.number(),
  accuracy: z.number().min(0).max(1),
  /** Mean MACs per image on the evaluated images (under attack: on the adversarial images). */
  macs: z.number().nonnegative(),
  exitShare: z.array(z.number()),
});
export type EarlyExitPoint = z.infer<typeof EarlyExitPointSchema>;

export const AttackResultSchema = z.object({
  attack: EvalAttackSchema,
  /** "PGD-20", "AutoAttack (standard)", "AutoAttack (reduced: …)". */
  label: z.string(),
  /** L∞ radius in /255 (0 for clean). */
  eps: z.number().nonnegative(),
  /** Gradient steps per run (APGD/FAB iterations for AutoAttack; 0 for clean and Square alone). */
  steps: z.number().int().nonnegative(),
  restarts: z.number().int().nonnegative(),
  samples: z.number().int().positive(),
  /** Every other setting that defines the attack (step size, target classes, queries, …). */
  settings: z.record(z.string(), z.unknown()),
  perExit: z.array(z.number().min(0).max(1)),
  earlyExit: z.array(EarlyExitPointSchema),
  /** For ensembles: per component, how many (image, exit) points it newly fooled. */
  gains: z.record(z.string(), z.array(z.number().int().nonnegative())).nullable(),
  seconds: z.number().nonnegative(),
});
export type AttackResult = z.infer<typeof AttackResultSchema>;

export const BudgetSchema = z.object({
  fraction: z.number().positive(),
  budgetMacs: z.number().nonnegative(),
  threshold: z.number(),
  calibrationMacs: z.number().nonnegative(),
  calibrationAccuracy: z.number().min(0).max(1),
  feasible: z.boolean(),
});

export const EpsSweepSchema = z.object({
  attack: z.string(),
  points: z.array(z.object({ eps: z.number(), perExit: z.array(z.number()) })),
});

export const EvaluationReportSchema = z.object({
  formatVersion: z.literal(1),
  runId: z.string(),
  method: z.string(),
  dataset: z.string(),
  checkpoint: z.enum(['last', 'best']),
  /** Epochs the evaluated checkpoint had completed. */
  epoch: z.number().int().nonnegative(),
  createdAt: z.string(),
  backend: z.string(),
  /** The first `samples` test images are attacked; thresholds come from the last `calibrationSamples`. */
  samples: z.number().int().positive(),
  calibrationSamples: z.number().int().nonnegative(),
  eps: z.number().nonnegative(),
  norm: z.literal('linf'),
  target: EvalTargetSchema,
  seed: z.number().int(),
  exits: z.array(z.object({ exit: z.number().int(), macs: z.number().nonnegative() })),
  costModel: z.string(),
  budgets: z.array(BudgetSchema),
  attacks: z.array(AttackResultSchema),
  sweep: EpsSweepSchema.nullable(),
  warnings: z.array(z.string()),
  seconds: z.number().nonnegative(),
});
export type EvaluationReport = z.infer<typeof EvaluationReportSchema>;

/** One row of the paper-style table: a run, its training time and its accuracy under each attack. */
export const PaperTableSchema = z.object({
  /** Which accuracy the cells show: the last exit, one exit, or the early-exit model at a budget. */
  view: z.string(),
  attacks: z.array(z.object({ attack: z.string(), label: z.string() })),
  rows: z.array(z.object({
    runId: z.string(),
    method: z.string(),
    dataset: z.string(),
    epochs: z.number().int(),
    /** Sum of the epochs' training time (seconds), and the run's total engine time. */
    trainingSeconds: z.number().nullable(),
    totalSeconds: z.number().nullable(),
    samples: z.number().int().nullable(),
    eps: z.number().nullable(),
    cells: z.record(z.string(), z.number().nullable()),
    /** Accuracy per exit under each attack. */
    perExit: z.record(z.string(), z.array(z.number())),
    warnings: z.array(z.string()),
  })),
});
export type PaperTable = z.infer<typeof PaperTableSchema>;

/** Reduced settings an evaluation may ask for (tests, quick looks); the report labels them. */
export const AttackSettingsInputSchema = z.object({
  /** Restarts of PGD and CW. */
  restarts: z.number().int().min(1).max(100).default(1),
  aaSteps: z.number().int().min(1).max(10_000).default(100),
  aaTargetClasses: z.number().int().min(1).max(999).default(9),
  aaSquareQueries: z.number().int().min(1).max(1_000_000).default(5000),
  aaRestarts: z.number().int().min(1).max(100).default(1),
});

/** What `exitlab eval` and the `eval.run` API method ask for. */
export const EvalRequestSchema = z.object({
  runId: z.string().min(1),
  attacks: z.array(EvalAttackSchema).min(1, 'choose at least one attack'),
  /** The first `samples` test images are attacked. */
  samples: z.number().int().positive('samples must be a positive whole number').max(1_000_000),
  /** L∞ radius in /255. */
  eps: z.number().positive().max(255).default(8),
  target: EvalTargetSchema.default('max-average'),
  checkpoint: z.enum(['last', 'best']).default('last'),
  /** Early-exit budgets as fractions of the last exit's cost (empty: no early-exit results). */
  budgets: z.array(z.number().positive().max(10)).max(20).default([0.25, 0.5, 0.75, 1]),
  /** Held-out calibration images (the last ones of the test split, never among the attacked ones). */
  calibrationSamples: z.number().int().min(0).max(1_000_000).default(500),
  backend: z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).default('auto'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  batchSize: z.number().int().min(1).max(4096).default(64),
  /** ε sweep for the gradient-masking check: PGD-20 at these radii (/255); empty: no sweep. */
  sweep: z.array(z.number().positive().max(255)).max(10).default([]),
  settings: AttackSettingsInputSchema.default({ restarts: 1, aaSteps: 100, aaTargetClasses: 9, aaSquareQueries: 5000, aaRestarts: 1 }),
});
export type EvalRequest = z.infer<typeof EvalRequestSchema>;
export type EvalRequestInput = z.input<typeof EvalRequestSchema>;

/** The ε radii (/255) of the default sweep. */
export const DEFAULT_SWEEP = [8, 16, 32, 64];
