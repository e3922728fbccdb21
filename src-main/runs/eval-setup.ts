// What an evaluation runs on, made from a prepared request the same way in the evaluating process
// and in each of its worker threads: the run's network loaded from its checkpoint, the attacks'
// settings and target, and the test images as [0,1] pixels.
import { IMAGE_SHAPE, type DatasetManifest } from '../../src-shared/datasets';
import type { EvalRequest } from '../../src-shared/evaluation';
import type { RunDetail } from '../../src-shared/runs';
import { AA_STANDARD } from '../engine/attacks/autoattack';
import type { BatchSetup, ImageSet } from '../engine/eval/batch-attack';
import { parseTarget } from '../engine/eval/robustness';
import { wrapLayersModel } from '../engine/model/msdnet';
import type { MultiExitNet } from '../engine/model/multi-exit';
import { ExportError, loadRunModel, type LoadedRunModel } from '../export/model';

/** A request that cannot be evaluated (no checkpoint, too few images, …): one line for the user. */
export class EvaluationError extends Error {}

export interface PreparedEvaluation {
  request: EvalRequest;
  detail: RunDetail;
  dataset: DatasetManifest;
}

/** The loaded network of a run as the attacks see it: pixels in [0,1] in, logits per exit out. */
export function runNetwork(
  home: string,
  prepared: PreparedEvaluation,
): { net: MultiExitNet; dataset: DatasetManifest; checkpoint: LoadedRunModel['checkpoint'] } {
  let loaded;
  try {
    // prepareEvaluation has already found the run's data set.
    loaded = loadRunModel(home, prepared.detail, prepared.request.checkpoint, () => prepared.dataset);
  } catch (err) {
    if (err instanceof ExportError) throw new EvaluationError(err.message);
    throw err;
  }
  const net = wrapLayersModel(
    loaded.model,
    loaded.fcLayerNames,
    { mean: loaded.dataset.mean, std: loaded.dataset.std, numClasses: loaded.dataset.classes.length },
    loaded.summary,
  );
  return { net, dataset: loaded.dataset, checkpoint: loaded.checkpoint };
}

/** The attacks' target and settings as the request asks for them. */
export function batchSetup(r: EvalRequest, exitCount: number): BatchSetup {
  return {
    target: parseTarget(r.target, exitCount),
    settings: {
      restarts: r.settings.restarts,
      aa: {
        steps: r.settings.aaSteps, targetClasses: r.settings.aaTargetClasses, squareQueries: r.settings.aaSquareQueries, restarts: r.settings.aaRestarts,
        rescaleSquareSchedule: r.settings.aaSquareQueries !== AA_STANDARD.squareQueries,
      },
    },
  };
}

export function toImages(images: Uint8Array, labels: Uint8Array, start: number, count: number): ImageSet {
  const size = 32 * 32 * 3;
  const x = new Float32Array(count * size);
  for (let i = 0; i < x.length; i++) x[i] = images[start * size + i] / 255;
  return { x, y: Int32Array.from(labels.subarray(start, start + count)), count, shape: [...IMAGE_SHAPE] };
}
