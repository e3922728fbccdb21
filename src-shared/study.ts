// Studies: a named grid of training runs on one data set with one budget (arms × seeds), each run
// then evaluated with the same attacks. A recipe is a JSON file (or a built-in one, study-recipes.ts);
// `expandStudy` turns it into its runs' full configurations and refuses a bad recipe before any run
// starts, naming the field.
import { z } from 'zod';
import { MethodSchema, TrainConfigSchema, describeZodError, exitCountOf, trainConfigProblem, type TrainConfig } from './config';
import { EvalRequestSchema, PAPER_ATTACKS } from './evaluation';
import { PresetIdSchema, paperLambda, withPreset } from './presets';
import { SlurmCellSchema } from './slurm';
import { FigureSpecSchema } from './study-figures';

/** A study's name is its folder name: letters, digits, dot, dash and underscore. */
export const StudyNameSchema = z.string().regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a study name is 1-64 letters, digits, ".", "-" or "_", starting with a letter or digit',
);

/**
 * Training fields a recipe sets, checked against TrainConfigSchema when the runs are expanded (a
 * field the schema does not know is refused there, so a typo is not silently dropped).
 */
const TrainOverridesSchema = z.record(z.string(), z.unknown());

const StudyArmSchema = z.object({
  /** How tables and figures name the arm; default: the method, with its λ where it is not the paper's. */
  label: z.string().min(1).max(60).optional(),
  method: MethodSchema,
  /**
   * fgsm-me's λ: `paper` (the paper's rule for the network's exit count, the default), `zero` (the
   * control: the same training without the penalty) or one value per exit. Other methods train
   * without λ.
   */
  lambda: z.union([z.enum(['paper', 'zero']), z.array(z.number().nonnegative().max(100)).min(1)]).optional(),
  /** Fields of this arm only, over the study's `train`. */
  train: TrainOverridesSchema.default({}),
});
export type StudyArm = z.infer<typeof StudyArmSchema>;

/** How every run of a study is evaluated: an evaluation request without its run. */
const StudyEvalSchema = EvalRequestSchema.omit({ runId: true }).extend({
  attacks: EvalRequestSchema.shape.attacks.default([...PAPER_ATTACKS]),
  samples: EvalRequestSchema.shape.samples.default(256),
});

/** Most runs a study trains side by side (`study run --parallel`): one per core or device is the sensible most. */
export const MAX_STUDY_PARALLEL = 64;
/** How many of a study's runs train at the same time: how the grid is scheduled, not part of its recipe (each run stores its workers). */
export const StudyParallelSchema = z.number().int().min(1).max(MAX_STUDY_PARALLEL).default(1);

export const StudyRecipeSchema = z.object({
  name: StudyNameSchema,
  description: z.string().max(2000).default(''),
  dataset: z.string().min(1),
  /** The setup every arm starts from (e.g. the paper's), under the study's and the arm's own fields. */
  preset: PresetIdSchema.nullable().default(null),
  /** The budget every arm shares: epochs, batch size, ε, network shape, …. */
  train: TrainOverridesSchema.default({}),
  arms: z.array(StudyArmSchema).min(1, 'a study needs at least one arm'),
  seeds: z.array(z.number().int().nonnegative()).min(1, 'a study needs at least one seed').max(100).default([0]),
  eval: StudyEvalSchema.prefault({}),
  /** Also measure each run's clean-vs-adversarial feature distance per block (FGSM and PGD-20), for the paper's feature figure. */
  featureDistance: z.boolean().default(true),
});
export type StudyRecipe = z.infer<typeof StudyRecipeSchema>;
export type StudyRecipeInput = z.input<typeof StudyRecipeSchema>;

/** One run of the grid. `key` names it in the study's folder and never changes. */
export interface StudyCell {
  key: string;
  label: string;
  arm: number;
  seed: number;
  config: TrainConfig;
}

/** A recipe whose runs cannot be built; `field` is the recipe path of the problem ("arms.2.lambda"). */
export class StudyRecipeError extends Error {
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
  }
}

function armLabel(arm: StudyArm): string {
  if (arm.label) return arm.label;
  if (arm.lambda === 'zero') return `${arm.method} λ=0`;
  if (Array.isArray(arm.lambda)) return `${arm.method} λ=${arm.lambda.join('/')}`;
  return arm.method;
}

const slug = (s: string) => s.toLowerCase().replace(/λ/g, 'lambda').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'arm';

function unknownField(overrides: Record<string, unknown>): string | undefined {
  return Object.keys(overrides).find((k) => !(k in TrainConfigSchema.shape));
}

function armConfig(recipe: StudyRecipe, arm: StudyArm, a: number, seed: number): TrainConfig {
  const field = `arms.${a}`;
  for (const [where, overrides] of [['train', recipe.train], [`${field}.train`, arm.train]] as const) {
    const unknown = unknownField(overrides);
    if (unknown) throw new StudyRecipeError(`${where}.${unknown}`, 'not a training field');
    for (const fixed of ['method', 'lambda', 'seed', 'dataset'] as const) {
      if (fixed in overrides) {
        throw new StudyRecipeError(
          `${where}.${fixed}`, `set by the study (${fixed === 'seed' ? 'seeds' : fixed === 'dataset' ? 'dataset' : `the arm's ${fixed}`}), not here`,
        );
      }
    }
  }
  if (arm.lambda !== undefined && arm.method !== 'fgsm-me') {
    throw new StudyRecipeError(`${field}.lambda`, `λ is fgsm-me's penalty; ${arm.method} trains without it`);
  }
  const explicit = { ...recipe.train, ...arm.train, method: arm.method, dataset: recipe.dataset, seed };
  const input = recipe.preset ? withPreset(recipe.preset, explicit) : explicit;
  const parsed = TrainConfigSchema.safeParse({ ...input, lambda: null });
  if (!parsed.success) throw new StudyRecipeError(`${field}`, describeZodError(parsed.error, 3));
  const exits = exitCountOf(parsed.data);
  let lambda: number[] | null = null;
  if (arm.method === 'fgsm-me') {
    if (Array.isArray(arm.lambda) && arm.lambda.length !== exits) {
      throw new StudyRecipeError(`${field}.lambda`, `${arm.lambda.length} value(s) but the network has ${exits} exit(s)`);
    }
    lambda = arm.lambda === 'zero' ? Array<number>(exits).fill(0) : Array.isArray(arm.lambda) ? arm.lambda : paperLambda(exits);
  }
  const config = { ...parsed.data, lambda };
  const problem = trainConfigProblem(config, exits);
  if (problem) throw new StudyRecipeError(field, problem);
  return config;
}

/** Every run of the study in grid order (arm by arm, seed by seed). Throws StudyRecipeError. */
function expandStudy(recipe: StudyRecipe): StudyCell[] {
  const labels = recipe.arms.map(armLabel);
  const keys = labels.map(slug);
  const twin = keys.findIndex((k, i) => keys.indexOf(k) !== i);
  if (twin >= 0) throw new StudyRecipeError(`arms.${twin}.label`, `'${labels[twin]}' names the same arm as arms.${keys.indexOf(keys[twin])}: give one a label`);
  const seeds = [...new Set(recipe.seeds)];
  if (seeds.length !== recipe.seeds.length) throw new StudyRecipeError('seeds', 'a seed is listed twice');
  return recipe.arms.flatMap((arm, a) => seeds.map((seed) => ({
    key: `${keys[a]}-s${seed}`,
    label: labels[a],
    arm: a,
    seed,
    config: armConfig(recipe, arm, a, seed),
  })));
}

/** Parses a recipe and expands it, so a bad one is refused whole; the error names the field. */
export function checkStudyRecipe(input: unknown): { recipe: StudyRecipe; cells: StudyCell[] } {
  const parsed = StudyRecipeSchema.safeParse(input);
  if (!parsed.success) {
    const [first, ...more] = parsed.error.issues;
    throw new StudyRecipeError(
      first.path.join('.') || 'recipe', `${first.message}${more.length ? ` (and ${more.length} more problem${more.length > 1 ? 's' : ''})` : ''}`,
    );
  }
  return { recipe: parsed.data, cells: expandStudy(parsed.data) };
}

/**
 * A study folder's record of which run trains each grid cell. A cell's run id is written before its
 * run is created, so a study interrupted at any point resumes that run and never starts a second.
 */
export const StudyStateSchema = z.object({
  formatVersion: z.literal(1),
  runs: z.record(z.string(), z.string().min(1)),
});
export type StudyState = z.infer<typeof StudyStateSchema>;

/** Where a grid cell stands, as `study status` and the report show it. */
const STUDY_CELL_STATES = ['pending', 'training', 'paused', 'stopped', 'failed', 'interrupted', 'trained', 'evaluated'] as const;
export type StudyCellState = (typeof STUDY_CELL_STATES)[number];

/** A study as the app's Study view shows it: its runs' states, the results table and the figures. */
const StudyCellViewSchema = z.object({
  key: z.string(),
  label: z.string(),
  seed: z.number().int(),
  method: MethodSchema,
  runId: z.string().nullable(),
  state: z.enum(STUDY_CELL_STATES),
  epochsDone: z.number().int().nonnegative(),
  epochs: z.number().int().positive(),
  trainingSeconds: z.number().nonnegative().nullable(),
  /** Its Slurm task, for a study run on a cluster. */
  slurm: SlurmCellSchema.nullable(),
});

export const StudyViewSchema = z.object({
  recipe: StudyRecipeSchema,
  cells: z.array(StudyCellViewSchema),
  /** Where the study's tasks run, for a study run on a cluster (`exitlab study run … --on slurm`). */
  slurm: z.object({ sharedDir: z.string() }).nullable(),
  /** Cells already formatted; `paper` rows are the paper's published numbers, not measured here. */
  table: z.object({ header: z.array(z.string()), rows: z.array(z.object({ cells: z.array(z.string()), source: z.enum(['measured', 'paper']) })) }),
  notes: z.array(z.string()),
  figures: z.array(FigureSpecSchema),
});
export type StudyView = z.infer<typeof StudyViewSchema>;

export const StudySummarySchema = z.object({
  name: z.string(),
  description: z.string(),
  dataset: z.string(),
  runs: z.number().int().nonnegative(),
  evaluated: z.number().int().nonnegative(),
});
export type StudySummary = z.infer<typeof StudySummarySchema>;
