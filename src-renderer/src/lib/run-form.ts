// The New run form: its state, the TrainConfig it stands for, and inline validation with the same
// schema and cross-field checks the main process applies (so a problem shows next to its field
// before anything is sent).
import {
  TrainConfigSchema, trainConfigProblem, type BackendName, type Method, type ModelConfig, type TrainConfig, type TrainConfigInput,
} from '../../../src-shared/config';
import { PRESETS, type PresetId } from '../../../src-shared/presets';
import { lambdaPreset, paperPresetFor, type LambdaPresetId } from './lambda';

export interface RunForm {
  name: string;
  tags: string;
  dataset: string;
  method: Method;
  backend: BackendName;
  model: {
    blocks: number; step: number; base: number; channels: number; growthRate: number; scales: number; classifierChannels: number; exits: 'all' | 'last';
  };
  epochs: number;
  batchSize: number;
  eps: number;
  /** null: the method's default step. */
  alpha: number | null;
  /** PGD steps of pgd-at and trades. */
  pgdSteps: number;
  tradesBeta: number;
  freeReplays: number;
  /** GradAlign's λ_ga (gradalign only). */
  gradAlignLambda: number;
  /** null: the method's default (on for fgsm-rs). */
  earlyStop: boolean | null;
  lrKind: 'piecewise' | 'cyclic';
  lrMax: number;
  /** Comma-separated fractions of training, e.g. "0.5, 0.75". */
  milestones: string;
  lrFactor: number;
  momentum: number;
  weightDecay: number;
  evalSamples: number;
  maxBatchesPerEpoch: number | null;
  trainSamples: number | null;
  augment: boolean;
  keepBest: boolean;
  seed: number;
  lambda: number[];
  lambdaPreset: LambdaPresetId | 'custom';
  lambdaWarmupEpochs: number;
}

/** The schema's defaults: the one source of every default the form shows. */
const DEFAULTS: TrainConfig = TrainConfigSchema.parse({});

const formModel = (m: ModelConfig): RunForm['model'] => ({
  blocks: m.blocks, step: m.step, base: m.base, channels: m.channels, growthRate: m.growthRate, scales: m.scales, classifierChannels: m.classifierChannels,
  exits: m.exits,
});

export const REFERENCE_MODEL: RunForm['model'] = formModel(DEFAULTS.model);
/** A few-thousand-parameter MSDNet: minutes become seconds, for trying the app out. */
export const TINY_MODEL: RunForm['model'] = { blocks: 3, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8, exits: 'all' };

export function defaultForm(dataset = DEFAULTS.dataset): RunForm {
  const d = DEFAULTS;
  const lr = d.lr.kind === 'piecewise'
    ? { lrKind: 'piecewise' as const, lrMax: d.lr.max, milestones: d.lr.milestones.join(', '), lrFactor: d.lr.factor }
    // A cyclic default keeps the piecewise fields' own defaults for when the user switches.
    : { lrKind: 'cyclic' as const, lrMax: d.lr.max, milestones: '0.5, 0.75', lrFactor: 0.1 };
  return {
    name: '',
    tags: '',
    dataset,
    method: d.method,
    backend: d.backend,
    model: { ...REFERENCE_MODEL },
    epochs: d.epochs,
    batchSize: d.batchSize,
    eps: d.eps,
    alpha: d.alpha,
    pgdSteps: d.pgdSteps,
    tradesBeta: d.tradesBeta,
    freeReplays: d.freeReplays,
    gradAlignLambda: d.gradAlignLambda,
    earlyStop: d.earlyStop,
    ...lr,
    momentum: d.momentum,
    weightDecay: d.weightDecay,
    evalSamples: d.evalSamples,
    maxBatchesPerEpoch: d.maxBatchesPerEpoch,
    trainSamples: d.trainSamples,
    augment: d.augment,
    keepBest: d.keepBest,
    seed: d.seed,
    lambda: d.lambda ?? lambdaPreset(paperPresetFor(REFERENCE_MODEL.blocks), REFERENCE_MODEL.blocks),
    lambdaPreset: d.lambda ? 'custom' : paperPresetFor(REFERENCE_MODEL.blocks),
    lambdaWarmupEpochs: d.lambdaWarmupEpochs,
  };
}

/** The form with a run preset's fields (src-shared/presets.ts) on the reference model; the rest kept. */
export function applyPreset(form: RunForm, id: PresetId): RunForm {
  const c = PRESETS[id].config;
  const lr = c.lr?.kind === 'piecewise'
    ? { lrKind: 'piecewise' as const, lrMax: c.lr.max, milestones: (c.lr.milestones ?? []).join(', '), lrFactor: c.lr.factor ?? form.lrFactor }
    : {};
  return {
    ...form,
    ...lr,
    method: c.method ?? form.method,
    model: { ...REFERENCE_MODEL, ...c.model, exits: 'all' },
    epochs: c.epochs ?? form.epochs,
    eps: c.eps ?? form.eps,
    momentum: c.momentum ?? form.momentum,
    lambda: [...c.lambda],
    lambdaPreset: id,
    earlyStop: null,
  };
}

/** Exits the run's network will have: single-exit FGSM and `exits: last` build one. */
export function exitCount(form: Pick<RunForm, 'method' | 'model'>): number {
  return form.method === 'fgsm' || form.model.exits === 'last' ? 1 : Math.max(1, form.model.blocks || 1);
}

/** Whether the run will stop at catastrophic overfitting: the form's choice, else the method's default. */
export function earlyStopOn(form: Pick<RunForm, 'method' | 'keepBest' | 'earlyStop'>): boolean {
  return form.earlyStop ?? (form.method === 'fgsm-rs' && form.keepBest);
}

export const parseTags = (text: string) => [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];

/** An empty optional number field (null, undefined or NaN) means "not set". */
const optional = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? null : v);
/** An empty required number field becomes NaN, so that the schema names it instead of filling a default. */
const required = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : v);

function toConfigInput(form: RunForm): TrainConfigInput {
  const m = form.model;
  const milestones = form.milestones.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return {
    dataset: form.dataset,
    method: form.method,
    backend: form.backend,
    model: {
      blocks: required(m.blocks), step: required(m.step), base: required(m.base), channels: required(m.channels),
      growthRate: required(m.growthRate), scales: required(m.scales), classifierChannels: required(m.classifierChannels), exits: m.exits,
    },
    epochs: required(form.epochs),
    batchSize: required(form.batchSize),
    eps: required(form.eps),
    alpha: optional(form.alpha),
    pgdSteps: required(form.pgdSteps),
    tradesBeta: required(form.tradesBeta),
    freeReplays: required(form.freeReplays),
    gradAlignLambda: required(form.gradAlignLambda),
    earlyStop: form.earlyStop,
    lambda: form.lambda.map(required),
    lambdaWarmupEpochs: optional(form.lambdaWarmupEpochs) ?? 0,
    lr: form.lrKind === 'cyclic' ? { kind: 'cyclic', max: required(form.lrMax) } : {
      kind: 'piecewise', max: required(form.lrMax), milestones, factor: required(form.lrFactor),
    },
    momentum: required(form.momentum),
    weightDecay: required(form.weightDecay),
    augment: form.augment,
    evalSamples: required(form.evalSamples),
    keepBest: form.keepBest,
    maxBatchesPerEpoch: optional(form.maxBatchesPerEpoch),
    trainSamples: optional(form.trainSamples),
    seed: required(form.seed),
  };
}

export interface Validation {
  config: TrainConfig | null;
  /** Field path (as in the schema: "epochs", "model.blocks", "lr.milestones.0", "lambda") → message. */
  errors: Record<string, string>;
}

export function validateForm(form: RunForm): Validation {
  const errors: Record<string, string> = {};
  const parsed = TrainConfigSchema.safeParse(toConfigInput(form));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.length ? issue.path.map(String).join('.') : 'form';
      const message = /expected number, received NaN/i.test(issue.message) ? 'a number is required' : issue.message;
      errors[key] ??= message;
    }
    return { config: null, errors };
  }
  const problem = trainConfigProblem(parsed.data, exitCount(form));
  if (problem) {
    errors[/warm-up/.test(problem) ? 'lambdaWarmupEpochs' : /early stopping/.test(problem) ? 'earlyStop' : 'lambda'] = problem.replace('--lambda', 'λ');
    return { config: null, errors };
  }
  return { config: parsed.data, errors };
}

/** The first error at or under a field path. */
export function fieldError(errors: Record<string, string>, field: string): string | undefined {
  if (errors[field]) return errors[field];
  const key = Object.keys(errors).find((k) => k.startsWith(field + '.'));
  return key ? errors[key] : undefined;
}
