// Named run presets: the paper's setups (Chen et al. 2022), one definition for the CLI
// (`exitlab train --preset`), the app's New run form and the λ schedule editor. A preset fixes the
// fields it names; every other field keeps the schema's default, and explicit choices override it.
// Where the paper is silent the preset still has to choose, and its notes say so and why.
import { z } from 'zod';
import { exitCountOf, TrainConfigSchema, type TrainConfigInput } from './config';

/**
 * The paper's λ rule. Its one published setting, for a 7-exit CIFAR MSDNet, is
 * [0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]: shallow exits lighter, deep exits heavier. Other exit
 * counts keep that shape, the shallow 3/7 of the exits at 0.1. It is also fgsm-me's default λ.
 */
export function paperLambda(exitCount: number): number[] {
  if (exitCount === 1) return [0.15];
  const shallow = Math.round((3 / 7) * exitCount);
  return Array.from({ length: exitCount }, (_, i) => (i < shallow ? 0.1 : 0.15));
}

export const PRESET_IDS = ['paper-cifar10', 'paper-cifar100'] as const;
export const PresetIdSchema = z.enum(PRESET_IDS);
export type PresetId = z.infer<typeof PresetIdSchema>;

export interface Preset {
  id: PresetId;
  label: string;
  /** One line: what the preset is. */
  summary: string;
  /** The fields it sets (a partial TrainConfig; validated against the schema below). */
  config: TrainConfigInput & { lambda: number[]; model: { blocks: number } };
  /** Choices the paper does not publish, each with the reason for ours. */
  ourChoices: Array<{ field: string; note: string }>;
}

const SCHEDULE_NOTE = 'the paper gives SGD with momentum 0.9 for 100 epochs but not its learning-rate schedule: '
  + 'ours is the usual CIFAR step schedule (0.1, divided by 10 at 50% and 75% of training), which MSDNet and PGD adversarial training use';
const UNPUBLISHED_NOTE = 'batch size 64, weight decay 5e-4 and the FGSM step α = ε are not published either: they are the schema defaults';

/** What both setups share: the paper's method, radius, optimiser and length. */
const PAPER_TRAINING = {
  method: 'fgsm-me', eps: 8, epochs: 100, momentum: 0.9,
  lr: { kind: 'piecewise', max: 0.1, milestones: [0.5, 0.75], factor: 0.1 },
} as const satisfies TrainConfigInput;

export const PRESETS: Record<PresetId, Preset> = {
  'paper-cifar10': {
    id: 'paper-cifar10',
    label: 'Paper · CIFAR-10',
    summary: "the paper's CIFAR-10 setup: fgsm-me on a 5-block MSDNet, ε = 8/255, 100 epochs",
    config: { ...PAPER_TRAINING, model: { blocks: 5 }, lambda: paperLambda(5) },
    ourChoices: [
      {
        field: 'lambda',
        note: 'the paper publishes λ only for its 7-exit CIFAR-100 network ([0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]). '
          + 'For 5 exits we keep its rule, the shallow 3/7 of the exits at 0.1 and the deeper ones at 0.15, which gives '
          + '[0.1, 0.1, 0.15, 0.15, 0.15]: the heavier penalty falls on exits 3-5, the ones its CIFAR-10 figure shows overfitting',
      },
      { field: 'lr', note: SCHEDULE_NOTE },
      { field: 'batchSize', note: UNPUBLISHED_NOTE },
    ],
  },
  'paper-cifar100': {
    id: 'paper-cifar100',
    label: 'Paper · CIFAR-100',
    summary: "the paper's CIFAR-100 setup: fgsm-me on a 7-block MSDNet with its published λ, ε = 8/255, 100 epochs",
    config: { ...PAPER_TRAINING, model: { blocks: 7 }, lambda: paperLambda(7) },
    ourChoices: [
      { field: 'lr', note: SCHEDULE_NOTE },
      { field: 'batchSize', note: UNPUBLISHED_NOTE },
    ],
  },
};

// A preset the schema refuses is a bug here, not a user error: fail where it is defined.
for (const p of Object.values(PRESETS)) {
  const parsed = TrainConfigSchema.parse(p.config);
  if (parsed.lambda?.length !== parsed.model.blocks) throw new Error(`preset ${p.id}: λ needs one value per exit`);
}

/**
 * A paper preset's λ on a network with `exits` exits: its own at its exit count, the paper's rule
 * (paperLambda) on any other, so that the λ editor gives the λ the engine defaults to.
 */
export function presetLambda(id: PresetId, exits: number): number[] {
  const lambda = PRESETS[id].config.lambda;
  return exits === lambda.length ? [...lambda] : paperLambda(exits);
}

const defined = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(
  Object.entries(o ?? {}).filter(([, v]) => v !== undefined),
) as Partial<T>;

/** The preset's fields under the explicit ones (`explicit` wins wherever it sets a value). */
export function withPreset(id: PresetId, explicit: TrainConfigInput): TrainConfigInput {
  const p = PRESETS[id].config;
  const method = explicit.method ?? p.method;
  const model = { ...p.model, ...defined(explicit.model) };
  // λ is the paper's penalty: other methods compared on the same setup train without it. A model
  // with other exits than the preset's (more blocks, or one exit) gets the rule's λ for its count.
  const exits = exitCountOf(TrainConfigSchema.parse({ method, model }));
  const lambda = explicit.lambda ?? (method === 'fgsm-me' ? presetLambda(id, exits) : undefined);
  return { ...p, ...defined(explicit), method, lambda, model };
}

/** Words of `text` in lines of at most `width` characters, the first after `indent`, the others indented twice as far. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push((lines.length ? indent + indent : indent) + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, (lines.length ? indent + indent : indent) + line] : lines;
}

/** Text for --help: the preset's summary and our choices where the paper is silent, in lines of `width`. */
export function describePreset(id: PresetId, width = 90): string[] {
  const p = PRESETS[id];
  return [`${p.id}: ${p.summary}`, ...p.ourChoices.flatMap((c) => wrap(`our choice (${c.field}): ${c.note}`, width, '  '))];
}
