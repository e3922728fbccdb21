// Per-exit metrics: what an epoch and a finished run report, exit by exit.
import { z } from 'zod';

const ExitEpochMetricsSchema = z.object({
  exit: z.number().int().nonnegative(),
  trainCleanAcc: z.number(),
  trainCleanLoss: z.number(),
  trainAdvAcc: z.number(),
  trainAdvLoss: z.number(),
  /** ‖W_fc‖₂ (Frobenius norm of the exit's fully connected kernel) at the end of the epoch. */
  fcWeightNorm: z.number(),
  lambda: z.number(),
  valCleanAcc: z.number(),
  valFgsmAcc: z.number(),
  valPgdAcc: z.number(),
});
export type ExitEpochMetrics = z.infer<typeof ExitEpochMetricsSchema>;

export const EpochMetricsSchema = z.object({
  epoch: z.number().int().positive(),
  lr: z.number(),
  seconds: z.number().nonnegative(),
  imagesPerSecond: z.number().nonnegative(),
  exits: z.array(ExitEpochMetricsSchema),
  /** Catastrophic-overfitting probe on a training minibatch, per exit. */
  probe: z.object({ fgsmAcc: z.array(z.number()), pgdAcc: z.array(z.number()) }).optional(),
  catastrophicOverfitting: z.object({ detected: z.boolean(), exits: z.array(z.number().int()), reason: z.string() }),
});
export type EpochMetrics = z.infer<typeof EpochMetricsSchema>;
