// Data set manifest: the description stored beside every imported (or generated) data set.
import { z } from 'zod';

/** Every data set the app handles is 32x32 RGB, stored and batched row-major HWC (channels last). */
export const IMAGE_SIDE = 32;
const IMAGE_CHANNELS = 3;
/** [height, width, channels] of one image, as tfjs's NHWC tensors have it after the batch axis. */
export const IMAGE_SHAPE = [IMAGE_SIDE, IMAGE_SIDE, IMAGE_CHANNELS] as const;
/** Values in one image (3072): bytes on disk, floats in a batch. */
export const IMAGE_VALUES = IMAGE_SIDE * IMAGE_SIDE * IMAGE_CHANNELS;

const DatasetSourceSchema = z.enum(['synthetic', 'cifar10', 'cifar100', 'svhn', 'cifar10-bin']);

export const DatasetManifestSchema = z.object({
  formatVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  name: z.string(),
  source: DatasetSourceSchema,
  /** Image geometry (IMAGE_SHAPE). */
  height: z.literal(IMAGE_SIDE),
  width: z.literal(IMAGE_SIDE),
  channels: z.literal(IMAGE_CHANNELS),
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
