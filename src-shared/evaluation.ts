// Robustness evaluation reports: what `exitlab eval` writes (stdout and a file in the run folder)
// and what the paper-style table reads back. Accuracies are fractions of the evaluated images.
import { z } from 'zod';
import { CheckpointKindSchema, DEFAULT_CHECKPOINT } from './runs';
import { BackendSchema, MAX_WORKERS } from './config';
import { FeatureDistanceReportSchema } from './feature-distance';

/** AutoAttack's components, in the order the standard version runs them. */
export const AA_COMPONENTS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'] as const;
export type AaComponent = (typeof AA_COMPONENTS)[number];

/** The standard AutoAttack (Croce & Hein 2020): 100 iterations, 9 target classes, 5000 Square queries, 1 restart. */
export const AA_STANDARD_SETTINGS = { steps: 100, targetClasses: 9, squareQueries: 5000, restarts: 1 } as const;

/**
 * Attacks the evaluation runs, in the order tables show them (clean first, AutoAttack last): the
 * classic ones (FGSM; PGD; BIM, iterative FGSM without random start; MIM, momentum iterative FGSM;
 * CW∞, PGD on the CW margin), AutoAttack's components, and AutoAttack.
 */
export const EVAL_ATTACKS = ['clean', 'fgsm', 'pgd20', 'pgd50', 'bim', 'mim', 'cw', 'cw100', ...AA_COMPONENTS, 'aa'] as const;
export const EvalAttackSchema = z.enum(EVAL_ATTACKS);
export type EvalAttack = z.infer<typeof EvalAttackSchema>;

/** The columns of the paper's tables (Chen et al. 2022): clean, PGD, BIM, MIM, CW-100, AutoAttack. */
export const PAPER_ATTACKS = ['clean', 'pgd20', 'bim', 'mim', 'cw100', 'aa'] as const satisfies readonly EvalAttack[];

/** What `exitlab eval` runs when no list is given. */
export const DEFAULT_EVAL_ATTACKS = ['clean', 'fgsm', 'pgd20', 'cw', 'aa'] as const satisfies readonly EvalAttack[];

/** Gradient steps of the iterative attacks (AutoAttack's come from its settings). */
export const ATTACK_STEPS = { fgsm: 1, pgd20: 20, pgd50: 50, bim: 20, mim: 20, cw: 30, cw100: 100 } as const satisfies Partial<Record<EvalAttack, number>>;

const ATTACK_NAMES: Record<EvalAttack, string> = {
  clean: 'clean', fgsm: 'FGSM', pgd20: 'PGD', pgd50: 'PGD', bim: 'BIM', mim: 'MIM', cw: 'CW∞', cw100: 'CW∞',
  'apgd-ce': 'APGD-CE', 'apgd-t': 'APGD-T', 'fab-t': 'FAB-T', square: 'Square', aa: 'AutoAttack',
};
/** Attacks whose name carries their step count ("PGD-20", "CW∞-100"). */
const COUNTED = new Set<string>(['pgd20', 'pgd50', 'bim', 'mim', 'cw', 'cw100']);

/**
 * An attack's name as papers write it, for any record: the evaluation's attacks, and `pgd`, the
 * per-epoch PGD-10 of training. Iterative attacks carry their step count.
 */
export function attackName(attack: string, steps: number): string {
  if (attack === 'pgd') return `PGD-${steps}`;
  const name = (ATTACK_NAMES as Record<string, string>)[attack];
  if (name === undefined) return attack.toUpperCase();
  return COUNTED.has(attack) ? `${name}-${steps}` : name;
}

/** An attack's name with its usual step count, for menus ("BIM-20", "AutoAttack"). */
export const attackMenuName = (attack: EvalAttack): string =>
  attackName(attack, (ATTACK_STEPS as Partial<Record<string, number>>)[attack] ?? AA_STANDARD_SETTINGS.steps);

/** Which exits the attacks' losses look at: `exit:N` (1-based), `average`, `max-average`. */
export const EvalTargetSchema = z.string().regex(/^(average|max-average|exit:[1-9][0-9]*)$/, 'a target is average, max-average or exit:N');

const EarlyExitPointSchema = z.object({
  /** Budget as a fraction of the last exit's cost, and in MACs per image. */
  fraction: z.number().positive(),
  budgetMacs: z.number().nonnegative(),
  /** Softmax-confidence threshold calibrated on held-out clean images (≥ 1: everything to the last exit). */
  threshold: z.number(),
  /**
   * False when even sending every image to the first exit costs more than the budget: the model
   * cannot keep it, and the accuracy (that of the cheapest setting) is no answer for this budget.
   */
  feasible: z.boolean().default(true),
  /** Whether the attack aimed at the early-exit model (targets average and max-average do). */
  aimed: z.boolean().default(true),
  accuracy: z.number().min(0).max(1),
  /** Mean MACs per image on the evaluated images (under attack: on the adversarial images). */
  macs: z.number().nonnegative(),
  exitShare: z.array(z.number()),
});
export type EarlyExitPoint = z.infer<typeof EarlyExitPointSchema>;

const AttackResultSchema = z.object({
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
  /**
   * Per exit, the target the attack aimed at for that exit's number (`exit:3`, `average`,
   * `max-average`; `none` for clean images), or null where it aimed elsewhere: that exit's number is then only what points
   * crafted against other exits did to it, an upper bound on its robust accuracy, not a measurement.
   * Empty in reports written before this field: read the report's target.
   */
  aimedAt: z.array(z.union([EvalTargetSchema, z.literal('none')]).nullable()).default([]),
  earlyExit: z.array(EarlyExitPointSchema),
  /**
   * For ensembles: per component, how many (image, classifier) points it newly fooled, over the
   * exits and then the early-exit budgets. Every component run is listed, with 0 where it fooled nothing.
   */
  gains: z.record(z.string(), z.array(z.number().int().nonnegative())).nullable(),
  /**
   * Per-image outcome, so that two evaluations (or ExitLab and another tool) can be compared image
   * by image: per exit, then per early-exit budget, one character per attacked image in order,
   * '1' where the image resisted (correct under every candidate), '0' where it did not.
   */
  robustImages: z.object({
    exits: z.array(z.string().regex(/^[01]*$/)),
    earlyExit: z.array(z.string().regex(/^[01]*$/)),
  }).nullable().default(null),
  seconds: z.number().nonnegative(),
});
export type AttackResult = z.infer<typeof AttackResultSchema>;

/**
 * The target an attack aimed at for exit e (0-based), or null where that exit's number is only an
 * upper bound. Reports before `aimedAt` aimed every exit at the report's target, unless exit:N.
 */
export function aimOf(a: AttackResult, e: number, reportTarget: string | undefined): string | null {
  if (a.aimedAt?.length) return a.aimedAt[e] ?? null;
  if (a.attack === 'clean' || !reportTarget) return 'none';
  const m = /^exit:(\d+)$/.exec(reportTarget);
  return m && Number(m[1]) !== e + 1 ? null : reportTarget;
}

const BudgetSchema = z.object({
  fraction: z.number().positive(),
  budgetMacs: z.number().nonnegative(),
  threshold: z.number(),
  calibrationMacs: z.number().nonnegative(),
  calibrationAccuracy: z.number().min(0).max(1),
  feasible: z.boolean(),
});

const EpsSweepSchema = z.object({
  attack: z.string(),
  points: z.array(z.object({ eps: z.number(), perExit: z.array(z.number()) })),
});

export const EvaluationReportSchema = z.object({
  formatVersion: z.literal(1),
  runId: z.string(),
  method: z.string(),
  dataset: z.string(),
  checkpoint: CheckpointKindSchema,
  /** Epochs the evaluated checkpoint had completed. */
  epoch: z.number().int().nonnegative(),
  createdAt: z.string(),
  backend: z.string(),
  /** Worker threads the attacks ran on (reports from before there were workers: 1). */
  workers: z.number().int().positive().default(1),
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
    /** The evaluated checkpoint and the epochs it had completed; the exits the attacks aimed at. */
    checkpoint: z.string().nullable().default(null),
    checkpointEpoch: z.number().int().nullable().default(null),
    target: z.string().nullable().default(null),
    /**
     * null where the report has no such number, or where it is no answer for this view: the attack
     * did not aim at the viewed classifier, or the budget is infeasible (`notes` say which).
     */
    cells: z.record(z.string(), z.number().nullable()),
    /** Accuracy per exit under each attack. */
    perExit: z.record(z.string(), z.array(z.number())),
    notes: z.array(z.string()).default([]),
    warnings: z.array(z.string()),
  })),
});
export type PaperTable = z.infer<typeof PaperTableSchema>;

/** Reduced settings an evaluation may ask for (tests, quick looks); the report labels them. */
const AttackSettingsInputSchema = z.object({
  /** Restarts of PGD and CW. */
  restarts: z.number().int().min(1).max(100).default(1),
  aaSteps: z.number().int().min(1).max(10_000).default(AA_STANDARD_SETTINGS.steps),
  aaTargetClasses: z.number().int().min(1).max(999).default(AA_STANDARD_SETTINGS.targetClasses),
  aaSquareQueries: z.number().int().min(1).max(1_000_000).default(AA_STANDARD_SETTINGS.squareQueries),
  aaRestarts: z.number().int().min(1).max(100).default(AA_STANDARD_SETTINGS.restarts),
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
  checkpoint: CheckpointKindSchema.default(DEFAULT_CHECKPOINT),
  /** Early-exit budgets as fractions of the last exit's cost (empty: no early-exit results). */
  budgets: z.array(z.number().positive().max(10)).max(20).default([0.25, 0.5, 0.75, 1]),
  /** Held-out calibration images (the last ones of the test split, never among the attacked ones). */
  calibrationSamples: z.number().int().min(0).max(1_000_000).default(500),
  backend: BackendSchema.default('auto'),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  batchSize: z.number().int().min(1).max(4096).default(64),
  /**
   * Worker threads, each attacking whole batches of the images. null: the machine's available
   * parallelism, but no more workers than batches. 1 evaluates in the calling process itself.
   */
  workers: z.number().int().positive().max(MAX_WORKERS).nullable().default(null),
  /** ε sweep for the gradient-masking check: PGD-20 at these radii (/255); empty: no sweep. */
  sweep: z.array(z.number().positive().max(255)).max(10).default([]),
  settings: AttackSettingsInputSchema.default(AttackSettingsInputSchema.parse({})),
});
export type EvalRequest = z.infer<typeof EvalRequestSchema>;
export type EvalRequestInput = z.input<typeof EvalRequestSchema>;

/** The ε radii (/255) of the default sweep. */
export const DEFAULT_SWEEP = [8, 16, 32, 64];

/** What the evaluation child process (the app's evaluations run there) tells its parent. */
export const EvalChildEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), progress: z.object({ fraction: z.number().nullable(), message: z.string() }) }),
  z.object({ type: z.literal('done'), report: EvaluationReportSchema }),
  /** The end of a feature-distance measurement (a study's), which the child has written. */
  z.object({ type: z.literal('measured'), report: FeatureDistanceReportSchema }),
  /** `user`: a problem with the request (one line for the user), not a crash. */
  z.object({ type: z.literal('failed'), message: z.string(), user: z.boolean() }),
]);
export type EvalChildEvent = z.infer<typeof EvalChildEventSchema>;
