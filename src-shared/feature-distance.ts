// Clean-vs-adversarial feature distance per block (Chen et al. 2022, its feature figure): for each
// exit, the mean over images of ‖f(x) − f(x′)‖₂, where f is the feature map that exit's classifier
// reads and x′ the FGSM or PGD-20 point of x. The paper finds it growing with depth, and larger for
// PGD than for FGSM.
import { z } from 'zod';
import { CheckpointKindSchema } from './runs';

const FEATURE_ATTACKS = ['fgsm', 'pgd20'] as const;

export const FeatureDistanceReportSchema = z.object({
  formatVersion: z.literal(1),
  runId: z.string(),
  checkpoint: CheckpointKindSchema,
  epoch: z.number().int().nonnegative(),
  /** The first `samples` test images; L∞ ε in /255; attacks aim at the average of the exits' losses. */
  samples: z.number().int().positive(),
  eps: z.number().positive(),
  seed: z.number().int().nonnegative(),
  /** The block (1-based) whose features each exit reads: 1…n, or only the last one for a single-exit network. */
  blocks: z.array(z.number().int().positive()),
  attacks: z.array(z.object({
    attack: z.enum(FEATURE_ATTACKS),
    /** Per exit: mean ‖f(x) − f(x′)‖₂ of its block's features, and the mean ‖f(x)‖₂ to read it against. */
    distance: z.array(z.number().nonnegative()),
    cleanNorm: z.array(z.number().nonnegative()),
  })),
  createdAt: z.string(),
});
export type FeatureDistanceReport = z.infer<typeof FeatureDistanceReportSchema>;
