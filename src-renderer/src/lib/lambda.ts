// λ presets for the schedule editor: one penalty weight per exit on its fully connected weights.
// The paper presets come from src-shared/presets.ts (the CIFAR-100 λ is the paper's, the CIFAR-10
// one our choice, said so); on another exit count they follow the paper's rule, as the engine does.
import { PRESETS, presetLambda, type PresetId } from '../../../src-shared/presets';

export type LambdaPresetId = PresetId | 'uniform' | 'ramp' | 'off';

export interface LambdaPreset {
  id: LambdaPresetId;
  label: string;
  description: string;
}

const paperPreset = (id: PresetId): LambdaPreset => {
  const p = PRESETS[id];
  const ours = p.ourChoices.find((c) => c.field === 'lambda');
  const values = `[${p.config.lambda.join(', ')}] for its ${p.config.lambda.length} exits, and on other exit counts the paper's rule ` +
    '(the shallow 3/7 of the exits at 0.1, the others at 0.15)';
  return { id, label: p.label, description: ours ? `Our choice, ${values}: ${ours.note}` : `The paper's published λ, ${values}` };
};

export const LAMBDA_PRESETS: LambdaPreset[] = [
  paperPreset('paper-cifar10'),
  paperPreset('paper-cifar100'),
  { id: 'uniform', label: 'Uniform', description: 'The same λ on every exit' },
  { id: 'ramp', label: 'Linear ramp', description: 'λ rising linearly from the first exit to the last' },
  { id: 'off', label: 'Off', description: 'No FC-weight penalty (λ = 0): plain multi-exit FGSM training' },
];

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/** The paper preset whose network has this many exits (CIFAR-10's 5), else CIFAR-100's. */
export const paperPresetFor = (exits: number): PresetId => (exits === PRESETS['paper-cifar10'].config.lambda.length ? 'paper-cifar10' : 'paper-cifar100');

export function lambdaPreset(id: LambdaPresetId, exits: number, opts: { value?: number; from?: number; to?: number } = {}): number[] {
  switch (id) {
    case 'paper-cifar10':
    case 'paper-cifar100':
      return presetLambda(id, exits);
    case 'uniform':
      return new Array(exits).fill(round(opts.value ?? 0.1));
    case 'ramp': {
      const from = opts.from ?? 0.05;
      const to = opts.to ?? 0.2;
      return Array.from({ length: exits }, (_, i) => round(exits === 1 ? to : from + ((to - from) * i) / (exits - 1)));
    }
    case 'off':
      return new Array(exits).fill(0);
  }
}

/** Keeps a λ vector's values when the exit count changes: truncate, or extend with the last value. */
export function resizeLambda(lambda: number[], exits: number): number[] {
  if (lambda.length === exits) return lambda;
  if (lambda.length > exits) return lambda.slice(0, exits);
  const fill = lambda.length ? lambda[lambda.length - 1] : 0;
  return [...lambda, ...new Array(exits - lambda.length).fill(fill)];
}

/** λ per exit at an epoch, with the linear warm-up the engine applies. */
export function lambdaAtEpoch(lambda: number[], epoch: number, warmupEpochs: number): number[] {
  const scale = warmupEpochs > 0 ? Math.min(1, epoch / warmupEpochs) : 1;
  return lambda.map((l) => l * scale);
}
