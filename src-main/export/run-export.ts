// Exports a stored run's network (whole, or one exit) as TensorFlow.js layers or ONNX, with a
// metadata.json beside it. Everything is written into a temporary folder next to the destination
// and renamed into place at the end, so a failed export leaves nothing behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../src-shared/datasets';
import { DEFAULT_CHECKPOINT, ExportMetadataSchema, ExportRequestSchema, type ExportMetadata, type ExportRequest, type RunDetail } from '../../src-shared/runs';
import { readDatasetManifest } from '../datasets/catalog';
import { codeVersion } from '../runs/code-version';
import type { RunStore } from '../store/run-store';
import { ExportError, loadRunModel, singleExitModel, type LoadedRunModel } from './model';
import { layersModelToOnnx } from './onnx';
import { saveLayersModel } from './tfjs';
import { removeStaleTemps, tempPathFor } from '../temp-files';
import { rethrowWriteFailure } from '../write-errors';

export { ExportError };

export const METADATA_FILE = 'metadata.json';
const ONNX_FILE = 'model.onnx';

export interface ExportResult {
  out: string;
  files: string[];
  metadata: ExportMetadata;
}

/** Refuses a destination that exists or whose parent folder cannot take it; returns it resolved. */
function checkDestination(out: string): string {
  const dest = path.resolve(out);
  if (fs.existsSync(dest)) throw new ExportError(`${dest} already exists: choose a new folder name`);
  const parent = path.dirname(dest);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(parent);
  } catch {
    throw new ExportError(`cannot export to ${dest}: folder ${parent} does not exist`);
  }
  if (!stat.isDirectory()) throw new ExportError(`cannot export to ${dest}: ${parent} is not a folder`);
  try {
    fs.accessSync(parent, fs.constants.W_OK);
  } catch {
    throw new ExportError(`cannot export to ${dest}: folder ${parent} is not writable`);
  }
  return dest;
}

function buildMetadata(
  detail: RunDetail,
  loaded: LoadedRunModel,
  model: tf.LayersModel,
  opts: { format: 'tfjs' | 'onnx'; exit: number | null; files: string[]; outputNames: string[] },
): ExportMetadata {
  const { dataset, checkpoint, summary } = loaded;
  const label = (e: { checkpoint: string }) => e.checkpoint === checkpoint.kind || e.checkpoint === String(checkpoint.epoch);
  const evaluations = detail.evaluations.filter(label);
  const withThresholds = [...evaluations].reverse().find((e) => e.earlyExit);
  // A checkpoint written on stop lies inside an epoch: no epoch's metrics describe it.
  const epoch = checkpoint.batchesDone === 0 ? detail.epochs.find((e) => e.epoch === checkpoint.epoch) : undefined;
  const exitNumbers = opts.exit === null ? summary.perExit.map((p) => p.exit + 1) : [opts.exit];
  return ExportMetadataSchema.parse({
    format: 'exitlab-model-export',
    formatVersion: 1,
    exportedAt: new Date().toISOString(),
    exporterVersion: codeVersion(),
    model: {
      format: opts.format === 'tfjs' ? 'tfjs-layers' : 'onnx',
      files: opts.files,
      input: {
        name: model.inputs[0].name.replace(/:\d+$/, ''),
        shape: model.inputs[0].shape,
        layout: 'NHWC',
        dtype: 'float32',
        preprocessing: `x = (pixel / 255 - mean[c]) / std[c], with mean = [${dataset.mean.join(', ')}] and std = [${dataset.std.join(', ')}] per RGB channel`,
      },
      outputs: opts.outputNames.map((name, i) => ({ name, exit: exitNumbers[i], content: 'logits' })),
    },
    exportedExit: opts.exit,
    exits: summary.perExit.map((p) => ({
      exit: p.exit + 1, parameters: p.parameters, macs: p.macs, flops: 2 * p.macs, exported: exitNumbers.includes(p.exit + 1),
    })),
    checkpoint,
    dataset: { id: dataset.id, name: dataset.name, source: dataset.source, classes: dataset.classes, mean: dataset.mean, std: dataset.std },
    earlyExit: withThresholds?.earlyExit ? {
      thresholds: withThresholds.earlyExit.thresholds, accuracy: withThresholds.earlyExit.accuracy, evaluationId: withThresholds.id,
    } : null,
    robustness: {
      epoch: epoch ? {
        epoch: epoch.epoch,
        eps: detail.config.eps,
        perExit: epoch.exits.map((x) => ({ exit: x.exit + 1, clean: x.valCleanAcc, fgsm: x.valFgsmAcc, pgd10: x.valPgdAcc })),
      } : null,
      evaluations,
    },
    run: {
      id: detail.summary.id,
      name: detail.summary.name,
      method: detail.summary.method,
      status: detail.summary.status,
      seed: detail.summary.seed,
      codeVersion: detail.summary.codeVersion,
      backend: detail.summary.backendUsed,
      config: detail.config,
    },
  });
}

export async function exportRun(home: string, store: RunStore, input: ExportRequest): Promise<ExportResult> {
  const request = ExportRequestSchema.parse(input);
  const detail = store.getRun(request.runId);
  const dest = checkDestination(request.out);
  const kind = request.checkpoint ?? DEFAULT_CHECKPOINT;
  const fallbackDataset = (): DatasetManifest | null => {
    try {
      return readDatasetManifest(home, detail.config.dataset);
    } catch {
      return null;
    }
  };
  const loaded = loadRunModel(home, detail, kind, fallbackDataset);
  removeStaleTemps(path.dirname(dest), `.${path.basename(dest)}`);
  const tmp = tempPathFor(path.join(path.dirname(dest), `.${path.basename(dest)}`));
  let model = loaded.model;
  try {
    if (request.exit !== null) model = singleExitModel(loaded.model, request.exit - 1);
    const exitNumbers = request.exit === null ? loaded.summary.perExit.map((p) => p.exit + 1) : [request.exit];
    fs.mkdirSync(tmp);
    let files: string[];
    let outputNames: string[];
    let metadata: ExportMetadata;
    if (request.format === 'tfjs') {
      files = await saveLayersModel(model, tmp);
      outputNames = model.outputNames;
      metadata = buildMetadata(detail, loaded, model, { format: 'tfjs', exit: request.exit, files, outputNames });
    } else {
      files = [ONNX_FILE];
      outputNames = exitNumbers.map((k) => `logits_exit${k}`);
      metadata = buildMetadata(detail, loaded, model, { format: 'onnx', exit: request.exit, files, outputNames });
      const bytes = layersModelToOnnx(model, {
        outputNames,
        producerVersion: metadata.exporterVersion,
        metadata: { exitlab: JSON.stringify({
          runId: detail.summary.id, classes: metadata.dataset.classes, mean: metadata.dataset.mean, std: metadata.dataset.std, exits: metadata.exits,
        }) },
      });
      fs.writeFileSync(path.join(tmp, ONNX_FILE), bytes);
    }
    fs.writeFileSync(path.join(tmp, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
    // Checked again: a folder made meanwhile must not be replaced.
    if (fs.existsSync(dest)) throw new ExportError(`${dest} already exists: choose a new folder name`);
    fs.renameSync(tmp, dest);
    store.addArtefact(detail.summary.id, { kind: `export-${request.format}`, path: dest, meta: { exit: request.exit, checkpoint: loaded.checkpoint } });
    return { out: dest, files: [...files, METADATA_FILE], metadata };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    rethrowWriteFailure(err, `the export into ${dest}`, dest, (m) => new ExportError(m));
  } finally {
    loaded.model.dispose();
  }
}
