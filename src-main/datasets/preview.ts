// Preview and statistics of a data set as plain data for the renderer: class counts per split and a
// grid of sample images per class as PNG data URLs (the shape of DatasetPreviewSchema in src-shared/api.ts).
import { locateDataset } from './catalog';
import { DatasetError } from './errors';
import { encodePngRgb } from './png';
import { IMAGE_VALUES } from '../../src-shared/datasets';
import { readImagesAt, readLabels } from './store';

export interface DatasetPreview {
  id: string;
  split: string;
  classes: string[];
  /** Images per class in each split. */
  counts: Record<string, number[]>;
  /** The first `perClass` images of each class in `split` (file order), in class order. */
  samples: Array<{ label: number; images: string[] }>;
}

export function classCounts(labels: Uint8Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

export function datasetPreview(home: string, id: string, perClass = 8, split = 'train'): DatasetPreview {
  if (!Number.isInteger(perClass) || perClass < 1) throw new DatasetError(`images per class must be a positive integer, got ${perClass}`);
  const { dir, manifest } = locateDataset(home, id);
  if (!manifest.splits[split]) throw new DatasetError(`data set '${id}' has no '${split}' split (it has: ${Object.keys(manifest.splits).join(', ')})`);
  const k = manifest.classes.length;
  const counts: Record<string, number[]> = {};
  let chosenLabels: Uint8Array = new Uint8Array(0);
  for (const name of Object.keys(manifest.splits)) {
    const labels = readLabels(dir, manifest, name);
    counts[name] = classCounts(labels, k);
    if (name === split) chosenLabels = labels;
  }
  const picks: number[][] = Array.from({ length: k }, () => []);
  let missing = k;
  for (let i = 0; i < chosenLabels.length && missing > 0; i++) {
    const bucket = picks[chosenLabels[i]];
    if (bucket.length < perClass) {
      bucket.push(i);
      if (bucket.length === perClass) missing--;
    }
  }
  const flat = picks.flat();
  const images = readImagesAt(dir, split, flat);
  let n = 0;
  const samples = picks.map((indices, label) => ({
    label,
    images: indices.map(() => {
      const png = encodePngRgb(images.subarray(n * IMAGE_VALUES, (n + 1) * IMAGE_VALUES), 32, 32);
      n++;
      return `data:image/png;base64,${png.toString('base64')}`;
    }),
  }));
  return { id: manifest.id, split, classes: manifest.classes, counts, samples };
}
