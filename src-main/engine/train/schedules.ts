// Learning-rate and λ schedules, as pure functions of training progress.
import type { LrSchedule } from '../../../src-shared/config';

/** Learning rate at iteration `step` (0-based) of `totalSteps`. */
export function learningRate(schedule: LrSchedule, step: number, totalSteps: number): number {
  const t = totalSteps > 0 ? step / totalSteps : 0;
  if (schedule.kind === 'piecewise') {
    const passed = schedule.milestones.filter((m) => t >= m).length;
    return schedule.max * Math.pow(schedule.factor, passed);
  }
  // Triangular, as in fast adversarial training: 0 → max at 2/5 of training → 0.
  const peak = 0.4;
  return t < peak ? (schedule.max * t) / peak : Math.max(0, (schedule.max * (1 - t)) / (1 - peak));
}

/** λ per exit at `epoch` (1-based): ramps linearly to its full value over the warm-up epochs. */
export function lambdaAt(lambda: number[], epoch: number, warmupEpochs: number): number[] {
  const scale = warmupEpochs > 0 ? Math.min(1, epoch / warmupEpochs) : 1;
  return lambda.map((l) => l * scale);
}
