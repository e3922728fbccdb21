// Data set manifest: the description stored beside every imported (or generated) data set.
import { z } from 'zod';

export const DatasetSourceSchema = z.enum(['synthetic', 'cifar10', 'cifar100', 'svhn', 'cifar10-bin']);

export const DatasetManifestSchema = z.object({
  formatVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  name: z.string(),
  source: DatasetSourceSchema,
  /** Image geometry; every data set the app handles is 32x32 RGB. */
  height: z.literal(32),
  width: z.literal(32),
  channels: z.literal(3),
  classes: z.array(z.string()).min(2),
  splits: z.record(z.string(), z.object({ count: z.number().int().nonnegative(), sha256: z.string() })),
  /** Per-channel statistics of the training split, pixels scaled to [0,1]. */
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number(), z.number(), z.number()]),
  /** Horizontal flips are not label-preserving for digits (SVHN). */
  flipAugment: z.boolean(),
  importedAt: z.string(),
  origin: z.record(z.string(), z.unknown()).default({}),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;
