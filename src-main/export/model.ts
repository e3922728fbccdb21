// A stored run's trained network, rebuilt from its configuration and loaded from one of its
// checkpoints, and the sub-network of a single exit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../src-shared/datasets';
import type { ModelSummary } from '../../src-shared/engine-messages';
import type { CheckpointKind, RunDetail } from '../../src-shared/runs';
import { trainedModel } from '../../src-shared/config';
import { buildMsdnetLayers } from '../engine/model/msdnet';
import { loadWeightsInto, readCheckpoint } from '../engine/train/checkpoint';
import { CHECKPOINT_FILES, runDirOf } from '../runs/paths';

export class ExportError extends Error {}

export interface LoadedRunModel {
  model: tf.LayersModel;
  /** Names of the exits' fully connected layers, in exit order. */
  fcLayerNames: string[];
  summary: ModelSummary;
  dataset: DatasetManifest;
  checkpoint: { kind: CheckpointKind; epoch: number; batchesDone: number };
}

export function loadRunModel(home: string, detail: RunDetail, kind: CheckpointKind, fallbackDataset: () => DatasetManifest | null): LoadedRunModel {
  const id = detail.summary.id;
  const file = path.join(runDirOf(home, id), CHECKPOINT_FILES[kind]);
  if (!fs.existsSync(file)) {
    throw new ExportError(
      `run '${id}' has no ${kind} checkpoint (${file})${kind === 'best' ? '; try --checkpoint last' : ': it stopped before its first checkpoint'}`,
    );
  }
  const dataset = detail.dataset ?? fallbackDataset();
  if (!dataset) throw new ExportError(`run '${id}': its data set '${detail.config.dataset}' is unknown here, so the number of classes is not known`);
  let ckpt;
  try {
    ckpt = readCheckpoint(file);
  } catch (err) {
    throw new ExportError(`cannot read the ${kind} checkpoint of run '${id}': ${(err as Error).message}`);
  }
  const { model, fcLayers, summary } = buildMsdnetLayers(trainedModel(detail.config), dataset.classes.length, detail.config.seed);
  try {
    loadWeightsInto(model, ckpt.weights);
  } catch (err) {
    model.dispose();
    throw new ExportError(`the ${kind} checkpoint of run '${id}' does not fit its configuration: ${(err as Error).message}`);
  }
  return { model, fcLayerNames: fcLayers.map((l) => l.name), summary, dataset, checkpoint: { kind, epoch: ckpt.epoch, batchesDone: ckpt.batchesDone } };
}

/** The network from the input to exit `index` (0-based): only the layers on that path. */
export function singleExitModel(model: tf.LayersModel, index: number): tf.LayersModel {
  if (!Number.isInteger(index) || index < 0 || index >= model.outputs.length) {
    throw new ExportError(`exit ${index + 1} does not exist: the model has exits 1 to ${model.outputs.length}`);
  }
  return tf.model({ inputs: model.inputs, outputs: model.outputs[index], name: `${model.name}_exit${index + 1}` });
}
