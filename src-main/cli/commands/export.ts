// `exitlab export`: a stored run's network (whole, or one exit) as TensorFlow.js layers or ONNX,
// with metadata.json (data set, normalisation, classes, exits and their FLOPs, robustness, config).
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CHECKPOINT, EXPORT_FORMATS } from '../../../src-shared/runs';
import { resolveHome } from '../../home';
import { ExportError, exportRun } from '../../export/run-export';
import { OnnxExportError } from '../../export/onnx';
import { isOneOf, parseOptions, withCommandStore } from '../command-kit';
import { UsageError } from '../errors';

export const summary = 'export a trained run (whole network or one exit) as TensorFlow.js layers or ONNX, with metadata';

const HELP = `usage: exitlab export --run <id> --format tfjs|onnx --out <dir> [options]

  --run <id>              the run to export (see \`exitlab runs list\`)
  --format <f>            tfjs (model.json + weights.bin, for tf.loadLayersModel) | onnx (model.onnx, opset 13)
  --out <dir>             folder to create (must not exist; its parent must)
  --exit <k>              export only exit k (1 = the shallowest); default: all exits
  --checkpoint <c>        last | best (default ${DEFAULT_CHECKPOINT}, as \`exitlab eval\`; the output names it and its epoch)
  --home <dir>            data folder (default $EXITLAB_HOME or ~/.exitlab)
  --json                  print the result (folder, files, metadata) as JSON

The exported network takes normalised NHWC float32 images: x = (pixel / 255 - mean[c]) / std[c], with
mean and std in metadata.json; it returns one logits tensor per exported exit.`;

const OPTIONS = {
  run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, exit: { type: 'string' }, checkpoint: { type: 'string' },
  home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const values = parseOptions(argv, OPTIONS, HELP);
  if (!values) return 0;
  const { run: runId, out } = values;
  if (!runId) throw new UsageError('--run <id> is required');
  if (!values.format || !isOneOf(EXPORT_FORMATS, values.format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`);
  if (!out) throw new UsageError('--out <dir> is required');
  const exit = values.exit === undefined ? null : Number(values.exit);
  if (exit !== null && (!Number.isInteger(exit) || exit < 1)) throw new UsageError(`--exit must be a whole number from 1, got '${values.exit}'`);
  if (values.checkpoint !== undefined && !['best', 'last'].includes(values.checkpoint)) {
    throw new UsageError(`--checkpoint must be best or last, got '${values.checkpoint}'`);
  }

  // Inference on a few tensors: the pure-JS backend needs nothing installed and is exact enough.
  await tf.setBackend('cpu');
  const home = resolveHome(values.home);
  return withCommandStore(home, [ExportError, OnnxExportError], async (store) => {
    const result = await exportRun(home, store, {
      runId, format: values.format as 'tfjs' | 'onnx', exit, out, checkpoint: (values.checkpoint as 'best' | 'last' | undefined) ?? null,
    });
    if (values.json) console.log(JSON.stringify(result));
    else {
      const m = result.metadata;
      console.log(`exported run ${m.run.id} (${m.exportedExit === null ? `all ${m.exits.length} exits` : `exit ${m.exportedExit}`}, ` +
        `${m.checkpoint.kind} checkpoint of epoch ${m.checkpoint.epoch}) as ${m.model.format} to ${result.out}`);
      console.log(`files: ${result.files.join(', ')}`);
    }
    return 0;
  });
}
