// λ presets for the schedule editor: one penalty weight per exit on its fully connected weights.
// The paper's rule is "deeper exits get a heavier penalty": its 7-exit CIFAR-100 MSDNet uses
// [0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15]. Other exit counts keep that shape (the first 3/7 of the
// exits light, the rest heavy), as the engine's default does.
export type LambdaPresetId = 'paper-cifar10' | 'paper-cifar100' | 'uniform' | 'ramp' | 'off';

export interface LambdaPreset {
  id: LambdaPresetId;
  label: string;
  description: string;
}

export const LAMBDA_PRESETS: LambdaPreset[] = [
  { id: 'paper-cifar10', label: 'Paper · CIFAR-10', description: 'The engine\'s default for fgsm-me (the paper\'s shape: 0.1 on the shallow 3/7 of the exits, 0.15 on the deep ones)' },
  { id: 'paper-cifar100', label: 'Paper · CIFAR-100', description: 'The paper\'s 7-block CIFAR-100 setting [0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15], stretched to other exit counts' },
  { id: 'uniform', label: 'Uniform', description: 'The same λ on every exit' },
  { id: 'ramp', label: 'Linear ramp', description: 'λ rising linearly from the first exit to the last' },
  { id: 'off', label: 'Off', description: 'No FC-weight penalty (λ = 0): plain multi-exit FGSM training' },
];

const round = (v: number) => Math.round(v * 1e4) / 1e4;

function paperShape(exits: number, light: number, heavy: number): number[] {
  if (exits === 1) return [heavy];
  const shallow = Math.round((3 / 7) * exits);
  return Array.from({ length: exits }, (_, i) => (i < shallow ? light : heavy));
}

export function lambdaPreset(id: LambdaPresetId, exits: number, opts: { value?: number; from?: number; to?: number } = {}): number[] {
  switch (id) {
    case 'paper-cifar10':
    case 'paper-cifar100':
      return paperShape(exits, 0.1, 0.15);
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
