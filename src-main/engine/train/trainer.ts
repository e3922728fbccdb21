// The epoch loop: batches → method step → SGD update, per-epoch per-exit metrics, the
// catastrophic-overfitting check, and checkpoints at each epoch end and on stop.
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { EngineEvent } from '../../../src-shared/engine-messages';
import type { EpochMetrics } from '../../../src-shared/metrics';
import { IMAGE_VALUES, type DatasetManifest } from '../../../src-shared/datasets';
import type { BackendName, TrainConfig } from '../../../src-shared/config';
import type { Split } from '../../datasets/types';
import { BatchPipeline } from '../../datasets/pipeline';
import type { MultiExitNet } from '../model/multi-exit';
import { ThreadGroup } from '../parallel/thread-group';
import { THREADED_BACKENDS } from '../parallel/shards';
import { createMethod } from './methods';
import { resolveTrainConfig } from './resolve-config';
import { lambdaAt, learningRate } from './schedules';
import { mixSeed } from '../../random';
import { emptyEpochSums, rates, type EpochSums } from './epoch-stats';
import { detectOverfitting, initialOverfitState, type HeldOut, type OverfitState } from './monitor';
import { CHECKPOINT_FILES, copyCheckpoint, readResumeCheckpoint, writeCheckpoint } from './checkpoint';
import { buildNetFrom, LocalGroup, netDataOf, type ReplicaGroup } from './replica';
import type { RunControl } from './run-control';

export interface TrainingData {
  manifest: DatasetManifest;
  train: Split;
  test: Split;
}

export interface TrainerState {
  overfit: OverfitState;
  bestValPgd: number;
  bestEpoch: number | null;
  /** Sums of the epoch in progress (a checkpoint written on stop lies inside an epoch). */
  partial: EpochSums | null;
  seconds: number;
  last: EpochMetrics | null;
  /** Workers the run trained with (absent in checkpoints from before there were workers: 1). */
  workers?: number;
}

/** Training images watched by the overfitting probe: fixed, un-augmented. */
const PROBE_SIZE = 64;
/** Clean training accuracy is measured on every CLEAN_EVERY-th batch (one extra forward pass). */
const CLEAN_EVERY = 4;

export const checkpointPaths = (runDir: string) => ({ last: path.join(runDir, CHECKPOINT_FILES.last), best: path.join(runDir, CHECKPOINT_FILES.best) });

export class NanLossError extends Error {}

function heldOut(split: Split, count: number): HeldOut {
  const n = Math.min(count, split.count);
  const x = new Float32Array(n * IMAGE_VALUES);
  for (let i = 0; i < x.length; i++) x[i] = split.images[i] / 255;
  return { x, y: Int32Array.from(split.labels.subarray(0, n)), count: n };
}

export function buildNet(config: TrainConfig, manifest: DatasetManifest): MultiExitNet {
  return buildNetFrom(config, netDataOf(manifest));
}

export interface TrainOptions {
  runId: string;
  config: TrainConfig;
  runDir: string;
  resume: boolean;
  data: TrainingData;
  emit(event: EngineEvent): void;
  control: RunControl;
  /** Name and skip reasons of the backend in use, reported in the 'started' event. */
  backend: { backend: string; skipped: Array<{ backend: string; reason: string }> };
}

export async function runTraining(opts: TrainOptions): Promise<void> {
  const { config, exitCount, eps, alpha, lambda } = resolveTrainConfig(opts.config);
  const { data, emit, control } = opts;
  const replays = createMethod(config).replays ?? 1;
  const train: Split = config.trainSamples ? { ...data.train, count: Math.min(config.trainSamples, data.train.count) } : data.train;
  // A configuration without `workers` (a run created before there were workers, or a caller that
  // does not resolve it) trains in this thread, as such runs always did. Worker threads share the
  // CPU: a GPU backend, or tfjs-node with its own thread pool, trains in one replica.
  const threadedBackend = THREADED_BACKENDS.includes(opts.backend.backend);
  const workers = threadedBackend ? config.workers ?? 1 : 1;
  if (!threadedBackend && (config.workers ?? 1) > 1) {
    // Most such runs never asked for workers (the default is one per core): say it, do not warn.
    emit({
      type: 'log', level: 'info',
      message: `training in one replica on ${opts.backend.backend}: the run's ${config.workers} data-parallel workers are for the wasm and cpu backends`,
    });
  }
  const netData = netDataOf(data.manifest);
  // Every worker runs the backend this engine selected, whatever `auto` would find in a thread.
  const group: ReplicaGroup = workers === 1
    ? new LocalGroup(config, netData, eps, alpha, config.seed)
    : await ThreadGroup.start({ config: { ...config, backend: opts.backend.backend as BackendName }, data: netData, eps, alpha, workers });
  const paths = checkpointPaths(opts.runDir);
  fs.mkdirSync(opts.runDir, { recursive: true });

  let state: TrainerState = { overfit: initialOverfitState(exitCount), bestValPgd: -1, bestEpoch: null, partial: null, seconds: 0, last: null, workers };
  let startEpoch = 1;
  let skipBatches = 0;
  try {
    if (opts.resume) {
      const { checkpoint: ckpt, note } = readResumeCheckpoint<TrainerState>(paths);
      if (note) emit({ type: 'log', level: 'warn', message: note });
      await group.load(ckpt);
      const before = ckpt.state.workers ?? 1;
      if (before !== workers) {
        emit({
          type: 'log', level: 'info',
          message: `resuming with ${workers} worker(s) instead of ${before}: each minibatch is split into different shards, so batch-norm statistics (per ` +
            `shard) and the crafted examples' random draws differ from an uninterrupted run from here on`,
        });
      }
      state = { ...ckpt.state, workers };
      startEpoch = ckpt.epoch + 1;
      skipBatches = ckpt.batchesDone;
    }

    const pipeline = new BatchPipeline(train, {
      batchSize: config.batchSize, shuffle: true, augment: config.augment, flip: data.manifest.flipAugment, seed: config.seed, dropLast: true,
    });
    const batches = Math.min(pipeline.batchesPerEpoch, config.maxBatchesPerEpoch ?? Infinity);
    const totalSteps = batches * config.epochs;
    const valSet = heldOut(data.test, config.evalSamples);
    const probeSet = heldOut(train, PROBE_SIZE);

    emit({ type: 'started', runId: opts.runId, backend: opts.backend, model: group.summary, startEpoch });
    if (workers > 1) {
      emit({
        type: 'log', level: 'info',
        message: `data-parallel training on ${workers} worker threads, ` +
          `${Math.floor(config.batchSize / workers)}–${Math.ceil(config.batchSize / workers)} images each per batch`,
      });
    }

    const save = async (file: string, epoch: number, batchesDone: number) => {
      writeCheckpoint(file, { epoch, batchesDone, state, ...(await group.state()) });
    };

    for (let epoch = startEpoch; epoch <= config.epochs; epoch++) {
      const sums = state.partial ?? emptyEpochSums(exitCount);
      const lambdaNow = lambdaAt(lambda, epoch, config.lambdaWarmupEpochs);
      let b = 0;
      let lastProgress = 0;
      for await (const batch of pipeline.epoch(epoch - 1)) {
        if (b >= batches) break;
        if (b < skipBatches) {
          b++;
          continue;
        }
        await control.waitWhilePaused(emit);
        if (control.stopRequested) {
          state.partial = sums;
          await save(paths.last, epoch - 1, b);
          emit({ type: 'checkpoint', epoch: epoch - 1, path: paths.last, best: false });
          emit({ type: 'finished', status: 'stopped', epochs: epoch - 1, seconds: state.seconds, final: state.last, bestEpoch: state.bestEpoch });
          return;
        }
        const t0 = performance.now();
        const step = (epoch - 1) * batches + b;
        const lr = learningRate(config.lr, step, totalSteps);
        // One SGD step per replay (Free-m replays a minibatch m times, the learning rate advancing 1/m of a step each).
        const lrs = Array.from({ length: replays }, (_, r) => learningRate(config.lr, step + r / replays, totalSteps));
        const at = { epoch, batch: b, lambda: lambdaNow, lrs, clean: b % CLEAN_EVERY === 0 };
        const loss = await group.step({ x: batch.x.subarray(0, batch.size * IMAGE_VALUES), y: batch.y.subarray(0, batch.size) }, at, sums, (_r, value) => {
          if (!Number.isFinite(value)) throw new NanLossError(`loss became ${value} at epoch ${epoch}, batch ${b + 1} (learning rate ${lr})`);
        });
        const seconds = (performance.now() - t0) / 1000;
        sums.seconds += seconds;
        sums.images += batch.size * replays;
        state.seconds += seconds;
        b++;
        if (performance.now() - lastProgress > 250 || b === batches) {
          lastProgress = performance.now();
          emit({
            type: 'progress', epoch, epochs: config.epochs, batch: b, batches, phase: 'train', loss,
            imagesPerSecond: sums.images / Math.max(sums.seconds, 1e-9),
          });
        }
      }
      skipBatches = 0;

      emit({ type: 'progress', epoch, epochs: config.epochs, batch: batches, batches, phase: 'eval', loss: 0, imagesPerSecond: 0 });
      const tEval = performance.now();
      const val = await group.robustAccuracy(valSet, eps, config.batchSize, mixSeed(config.seed, epoch, -1));
      const probe = await group.robustAccuracy(probeSet, eps, config.batchSize, mixSeed(config.seed, epoch, -2));
      state.seconds += (performance.now() - tEval) / 1000;
      const overfit = detectOverfitting(state.overfit, probe);
      // Wong et al.'s early stopping: the run ends at the flagged epoch, whose weights are not kept as best.
      const earlyStop = Boolean(config.earlyStop) && overfit.detected;
      const overfitReason = earlyStop ? `early-stopped: catastrophic overfitting at epoch ${epoch} (${overfit.reason})` : overfit.reason;
      const norms = await group.fcNorms();
      const adv = rates(sums.adv);
      const clean = rates(sums.clean);
      const metrics: EpochMetrics = {
        epoch,
        lr: learningRate(config.lr, epoch * batches - 1, totalSteps),
        seconds: sums.seconds,
        imagesPerSecond: sums.images / Math.max(sums.seconds, 1e-9),
        exits: Array.from({ length: exitCount }, (_, e) => ({
          exit: e,
          trainCleanAcc: clean.acc[e],
          trainCleanLoss: clean.loss[e],
          trainAdvAcc: adv.acc[e],
          trainAdvLoss: adv.loss[e],
          fcWeightNorm: norms[e],
          lambda: lambdaNow[e],
          valCleanAcc: val.clean[e],
          valFgsmAcc: val.fgsm[e],
          valPgdAcc: val.pgd[e],
        })),
        probe: { fgsmAcc: probe.fgsm, pgdAcc: probe.pgd },
        catastrophicOverfitting: { detected: overfit.detected, exits: overfit.exits, reason: overfitReason },
      };
      const meanPgd = val.pgd.reduce((a, v) => a + v, 0) / exitCount;
      const isBest = config.keepBest && !earlyStop && meanPgd > state.bestValPgd;
      state = { ...state, overfit: overfit.next, partial: null, last: metrics, ...(isBest ? { bestValPgd: meanPgd, bestEpoch: epoch } : {}) };
      emit({ type: 'epoch', metrics });
      if (overfit.detected && !earlyStop) emit({ type: 'log', level: 'warn', message: `catastrophic overfitting at epoch ${epoch}: ${overfit.reason}` });
      await save(paths.last, epoch, 0);
      emit({ type: 'checkpoint', epoch, path: paths.last, best: false });
      if (isBest) {
        copyCheckpoint(paths.last, paths.best);
        emit({ type: 'checkpoint', epoch, path: paths.best, best: true });
      }
      if (earlyStop) {
        emit({ type: 'log', level: 'warn', message: `${overfitReason}; best checkpoint: epoch ${state.bestEpoch ?? 'none'}` });
        emit({ type: 'finished', status: 'completed', epochs: epoch, seconds: state.seconds, final: state.last, bestEpoch: state.bestEpoch });
        return;
      }
    }
    emit({ type: 'finished', status: 'completed', epochs: config.epochs, seconds: state.seconds, final: state.last, bestEpoch: state.bestEpoch });
  } finally {
    await group.dispose();
  }
}
