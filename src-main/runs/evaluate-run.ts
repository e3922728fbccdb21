// Robustness evaluation of a stored run, shared by `exitlab eval` and the `eval.run` API method:
// check the request (nothing is written for a bad one), load the run's checkpoint into its network,
// attack the first N test images, calibrate early-exit thresholds on the LAST test images (never
// among the attacked ones), run the gradient-masking check, then write the report file into the
// run's folder and record one evaluation per attack in the store, in one transaction.
//
// The work itself (`computeEvaluation`) never touches the store. The CLI runs it in its own
// process; the app runs it in a child process (eval-child.ts) so that the process serving the UI
// stays responsive, and records the result itself (eval-record.ts; the store has one writer).
// Either way, with `workers` > 1 the attacks' batches run on worker threads of that process
// (eval-workers.ts), and the report is the one a single thread would write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName } from '../../src-shared/config';
import type { DatasetManifest } from '../../src-shared/datasets';
import { EvalRequestSchema, EvaluationReportSchema, type EvalRequestInput, type EvalRequest, type EvaluationReport } from '../../src-shared/evaluation';
import { locateDataset, readDatasetManifest } from '../datasets/catalog';
import { readSplit } from '../datasets/store';
import type { BatchExecutor } from '../engine/eval/batch-attack';
import { exitCosts } from '../engine/eval/early-exit';
import { maskingWarnings } from '../engine/eval/masking';
import { evaluateRobustness, parseTarget } from '../engine/eval/robustness';
import { autoWorkers, batchCount, THREADED_BACKENDS } from '../engine/parallel/shards';
import type { RunStore } from '../store/run-store';
import { batchSetup, EvaluationError, runNetwork, toImages, type PreparedEvaluation } from './eval-setup';
import { EvalPool } from './eval-workers';
import { CHECKPOINT_FILES, runDirOf } from './paths';
import { recordEvaluation, type RecordedEvaluation } from './eval-record';

export { EvaluationError } from './eval-setup';

export interface EvalProgress {
  fraction: number | null;
  message: string;
}
export type EvalProgressFn = (p: EvalProgress) => void;

/**
 * Validates a request against the store and the data folder without any heavy work: unknown run
 * (the store's UnknownRunError), no checkpoint, unknown data set, more samples than test images,
 * more workers than batches, a target exit the model does not have. Throws a ZodError for a
 * malformed request.
 */
export function prepareEvaluation(home: string, store: RunStore, input: EvalRequestInput): PreparedEvaluation {
  const request = EvalRequestSchema.parse(input);
  const detail = store.getRun(request.runId);
  const ckpt = path.join(runDirOf(home, detail.summary.id), CHECKPOINT_FILES[request.checkpoint]);
  if (!fs.existsSync(ckpt)) {
    const other = request.checkpoint === 'best' ? 'last' : 'best';
    const hasOther = fs.existsSync(path.join(runDirOf(home, detail.summary.id), CHECKPOINT_FILES[other]));
    throw new EvaluationError(`run '${detail.summary.id}' has no ${request.checkpoint} checkpoint` +
      `${hasOther ? `; try --checkpoint ${other}` : ': it stopped before its first checkpoint, so there is no trained network to evaluate'}`);
  }
  let dataset: DatasetManifest;
  try {
    dataset = detail.dataset ?? readDatasetManifest(home, detail.config.dataset);
  } catch (err) {
    throw new EvaluationError(`run '${detail.summary.id}': its data set '${detail.config.dataset}' is not available here (${(err as Error).message})`);
  }
  const testCount = dataset.splits.test?.count ?? 0;
  if (testCount === 0) throw new EvaluationError(`data set '${dataset.id}' has no test images`);
  if (request.samples > testCount) {
    throw new EvaluationError(`--samples ${request.samples} is more than the ${testCount} test images of data set '${dataset.id}'`);
  }
  const batches = batchCount(request.samples, request.batchSize);
  if (request.workers !== null && request.workers > batches) {
    throw new EvaluationError(`--workers ${request.workers} is more than the ${batches} batch${batches > 1 ? 'es' : ''} of ${request.samples} images ` +
      `(--batch-size ${request.batchSize}): each worker attacks whole batches; use fewer workers or a smaller --batch-size`);
  }
  const exits = detail.modelSummary?.exits ?? null;
  if (exits !== null) {
    try {
      parseTarget(request.target, exits);
    } catch (err) {
      throw new EvaluationError((err as Error).message);
    }
  }
  return { request, detail, dataset };
}

/** The request's workers, or one per core (of `cores`) but no more than there are batches; one on a GPU backend. */
function evaluationWorkers(request: EvalRequest, backend: string, cores?: number): number {
  if (!THREADED_BACKENDS.includes(backend)) return 1;
  return request.workers ?? autoWorkers(batchCount(request.samples, request.batchSize), cores);
}

/**
 * The heavy part: attacks, calibration, sweep and masking check. Reads files; writes nothing.
 * `cores`: what a request without workers may use (default: the machine's).
 */
export async function computeEvaluation(
  home: string, prepared: PreparedEvaluation, onProgress: EvalProgressFn = () => {}, cores?: number,
): Promise<EvaluationReport> {
  const { request, detail } = prepared;
  const t0 = performance.now();
  // Imported here: loading it registers the wasm backend, which must not happen in the process that
  // serves the UI (its own small tf work, model summaries and exports, runs on the cpu backend).
  const { selectBackend } = await import('../engine/backends/select');
  const backend = await selectBackend(request.backend);
  const workers = evaluationWorkers(request, backend.backend, cores);
  onProgress({
    fraction: 0,
    message: `loading run ${detail.summary.id} (${request.checkpoint} checkpoint) on ${backend.backend}${workers > 1 ? `, ${workers} worker threads` : ''}`,
  });
  const { net, dataset, checkpoint } = runNetwork(home, prepared);
  let pool: Promise<EvalPool> | null = null;
  try {
    const setup = batchSetup(request, net.exitCount);
    const { dir, manifest } = locateDataset(home, dataset.id);
    const test = readSplit(dir, manifest, 'test');
    const images = toImages(test.images, test.labels, 0, request.samples);
    const calibrationCount = Math.min(request.calibrationSamples, test.count - request.samples);
    const calibration = toImages(test.images, test.labels, test.count - calibrationCount, calibrationCount);
    const warnings: string[] = [];
    if (request.workers !== null && request.workers > workers) {
      warnings.push(`evaluated on one thread: worker threads are for the ${THREADED_BACKENDS.join(' and ')} backends, not ${backend.backend}`);
    }
    let budgets = request.budgets;
    if (budgets.length && calibrationCount === 0) {
      warnings.push(`no early-exit results: all ${test.count} test images are attacked, none is left to calibrate the thresholds on`);
      budgets = [];
    }
    // The workers load the network while this thread calibrates the early-exit thresholds.
    const started = workers > 1 ? EvalPool.start({ home, prepared, workers, backend: backend.backend as BackendName, images, checkpoint }) : null;
    pool = started;
    // A failed start is thrown where the attacks wait for the pool; until then it is not unhandled.
    started?.catch(() => {});
    const executor: BatchExecutor | undefined = started ? async (tasks, progress) => (await started).run(tasks, progress) : undefined;
    const costs = exitCosts(net.summary);
    const eps = request.eps / 255;
    const sweepRuns = request.sweep.length;
    const units = request.attacks.length + sweepRuns;
    const common = { ...setup, costs: costs.macs, batchSize: request.batchSize, seed: request.seed };
    const outcome = await evaluateRobustness(net, images, calibration, {
      ...common, eps, attacks: request.attacks, budgets,
      onProgress: ({ attack, done, batches, fraction }) => {
        onProgress({
          fraction: (fraction * request.attacks.length) / units, message: `${attack}: ${done}/${batches} batches of ${request.samples} images done`,
        });
      },
    }, executor);
    let sweep: EvaluationReport['sweep'] = null;
    if (sweepRuns) {
      const points = [];
      for (const [k, e] of [...request.sweep].sort((a, b) => a - b).entries()) {
        const r = await evaluateRobustness(net, images, { ...calibration, count: 0 }, {
          ...common, eps: e / 255, attacks: ['pgd20'], budgets: [],
          onProgress: ({ done, batches, fraction }) => {
            onProgress({
              fraction: (request.attacks.length + k + fraction) / units, message: `ε sweep: PGD-20 at ε ${e}/255, ${done}/${batches} batches done`,
            });
          },
        }, executor);
        points.push({ eps: e, perExit: r.attacks[0].perExit });
      }
      sweep = { attack: 'PGD-20', points };
    }
    warnings.push(...maskingWarnings({ attacks: outcome.attacks, sweep }));
    onProgress({ fraction: 1, message: 'evaluation done' });
    return EvaluationReportSchema.parse({
      formatVersion: 1,
      runId: detail.summary.id,
      method: detail.summary.method,
      dataset: dataset.id,
      checkpoint: request.checkpoint,
      epoch: checkpoint.epoch,
      createdAt: new Date().toISOString(),
      backend: backend.backend,
      workers,
      samples: request.samples,
      calibrationSamples: budgets.length ? calibrationCount : 0,
      eps: request.eps,
      norm: 'linf',
      target: request.target,
      seed: request.seed,
      exits: costs.macs.map((macs, k) => ({ exit: k + 1, macs })),
      costModel: costs.model,
      budgets: outcome.budgets.map((b) => ({
        fraction: b.fraction, budgetMacs: b.budget, threshold: b.threshold, calibrationMacs: b.calibrationMacs, calibrationAccuracy: b.calibrationAccuracy,
        feasible: b.feasible,
      })),
      attacks: outcome.attacks,
      sweep,
      warnings,
      seconds: (performance.now() - t0) / 1000,
    });
  } finally {
    net.dispose();
    await pool?.then((p) => p.dispose(), () => {});
  }
}

/** Prepare, compute and record in this process (the CLI). */
export async function evaluateRun(home: string, store: RunStore, input: EvalRequestInput, onProgress?: EvalProgressFn): Promise<RecordedEvaluation> {
  const prepared = prepareEvaluation(home, store, input);
  const report = await computeEvaluation(home, prepared, onProgress);
  return recordEvaluation(home, store, report);
}
