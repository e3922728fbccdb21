// The epoch loop: batches → method step → SGD update, per-epoch per-exit metrics, the
// catastrophic-overfitting check, and checkpoints at each epoch end and on stop.
import * as path from 'node:path';
import * as fs from 'node:fs';
import type { EngineEvent } from '../../../src-shared/engine-messages';
import type { EpochMetrics, ExitEpochMetrics } from '../../../src-shared/metrics';
import { IMAGE_VALUES, type DatasetManifest } from '../../../src-shared/datasets';
import type { BackendName, TrainConfig } from '../../../src-shared/config';
import type { Batch, Split } from '../../datasets/types';
import { BatchPipeline } from '../../datasets/pipeline';
import type { MultiExitNet } from '../model/multi-exit';
import { ThreadGroup } from '../parallel/thread-group';
import { THREADED_BACKENDS } from '../parallel/shards';
import { createMethod } from './methods';
import { resolveTrainConfig } from './resolve-config';
import { lambdaAt, learningRate } from './schedules';
import { mixSeed } from '../../random';
import { emptyEpochSums, rates, type EpochSums } from './epoch-stats';
import { detectOverfitting, initialOverfitState, type HeldOut, type OverfitState, type RobustAccuracy } from './monitor';
import { CHECKPOINT_FILES, copyCheckpoint, readResumeCheckpoint, writeCheckpoint } from './checkpoint';
import { buildNetFrom, LocalGroup, netDataOf, type NetData, type ReplicaGroup, type StepPosition } from './replica';
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
/** Training progress is reported at most this often (and after an epoch's last batch). */
const PROGRESS_MS = 250;

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
  const workers = workersFor(config, opts.backend.backend, emit);
  const group = await startGroup(config, netDataOf(data.manifest), opts.backend.backend, eps, alpha, workers);
  const paths = checkpointPaths(opts.runDir);
  fs.mkdirSync(opts.runDir, { recursive: true });

  try {
    const start = opts.resume ? await resumePoint(paths, group, workers, emit) : freshStart(exitCount, workers);
    const pipeline = new BatchPipeline(train, {
      batchSize: config.batchSize, shuffle: true, augment: config.augment, flip: data.manifest.flipAugment, seed: config.seed, dropLast: true,
    });
    const batches = Math.min(pipeline.batchesPerEpoch, config.maxBatchesPerEpoch ?? Infinity);
    const loop: Loop = {
      config, exitCount, eps, replays, group, pipeline, batches, totalSteps: batches * config.epochs,
      valSet: heldOut(data.test, config.evalSamples), probeSet: heldOut(train, PROBE_SIZE), paths, emit, control,
    };

    emit({ type: 'started', runId: opts.runId, backend: opts.backend, model: group.summary, startEpoch: start.epoch });
    // The checkpoint's last epoch again: its metrics may never have reached the run store, since
    // the checkpoint is written while the event is on its way and a killed owner loses it (the
    // store's upsert makes this a no-op when they did).
    if (start.state.last) emit({ type: 'epoch', metrics: start.state.last });
    if (workers > 1) {
      emit({
        type: 'log', level: 'info',
        message: `data-parallel training on ${workers} worker threads, ` +
          `${Math.floor(config.batchSize / workers)}–${Math.ceil(config.batchSize / workers)} images each per batch`,
      });
    }

    let state = start.state;
    for (let epoch = start.epoch; epoch <= config.epochs; epoch++) {
      const lambdaNow = lambdaAt(lambda, epoch, config.lambdaWarmupEpochs);
      const sums = await trainEpoch(loop, state, epoch, lambdaNow, epoch === start.epoch ? start.batchesDone : 0);
      if (!sums) return; // stopped inside the epoch: its checkpoint is written and 'finished' sent
      const end = await endEpoch(loop, state, epoch, lambdaNow, sums);
      state = end.state;
      await checkpointEpoch(loop, state, epoch, end.best);
      if (end.earlyStop) {
        emit({ type: 'log', level: 'warn', message: `${end.earlyStop}; best checkpoint: epoch ${state.bestEpoch ?? 'none'}` });
        finish(emit, 'completed', epoch, state);
        return;
      }
    }
    finish(emit, 'completed', config.epochs, state);
  } finally {
    await group.dispose();
  }
}

/** What the epoch loop works with; `state` is passed beside it because the loop replaces it each epoch. */
interface Loop {
  config: TrainConfig;
  exitCount: number;
  eps: number;
  /** Weight updates per minibatch (Free-m's m, 1 for the other methods). */
  replays: number;
  group: ReplicaGroup;
  pipeline: BatchPipeline;
  /** Batches trained per epoch: the pipeline's, at most maxBatchesPerEpoch. */
  batches: number;
  totalSteps: number;
  valSet: HeldOut;
  probeSet: HeldOut;
  paths: { last: string; best: string };
  emit(event: EngineEvent): void;
  control: RunControl;
}

/** Where training begins: the first epoch to train and how many of its batches are already done. */
interface StartPoint {
  state: TrainerState;
  epoch: number;
  batchesDone: number;
}

/**
 * How many replicas train. A configuration without `workers` (a run created before there were
 * workers, or a caller that does not resolve it) trains in this thread, as such runs always did.
 * Worker threads share the CPU: a GPU backend, or tfjs-node with its own thread pool, trains in one.
 */
function workersFor(config: TrainConfig, backend: string, emit: (event: EngineEvent) => void): number {
  const threadedBackend = THREADED_BACKENDS.includes(backend);
  if (!threadedBackend && (config.workers ?? 1) > 1) {
    // Most such runs never asked for workers (the default is one per core): say it, do not warn.
    emit({
      type: 'log', level: 'info',
      message: `training in one replica on ${backend}: the run's ${config.workers} data-parallel workers are for the wasm and cpu backends`,
    });
  }
  return threadedBackend ? config.workers ?? 1 : 1;
}

async function startGroup(config: TrainConfig, netData: NetData, backend: string, eps: number, alpha: number, workers: number): Promise<ReplicaGroup> {
  if (workers === 1) return new LocalGroup(config, netData, eps, alpha, config.seed);
  // Every worker runs the backend this engine selected, whatever `auto` would find in a thread.
  return ThreadGroup.start({ config: { ...config, backend: backend as BackendName }, data: netData, eps, alpha, workers });
}

const freshStart = (exitCount: number, workers: number): StartPoint => ({
  state: { overfit: initialOverfitState(exitCount), bestValPgd: -1, bestEpoch: null, partial: null, seconds: 0, last: null, workers },
  epoch: 1,
  batchesDone: 0,
});

/** Loads the checkpoint to resume from into the replicas; training goes on after its last batch. */
async function resumePoint(paths: Loop['paths'], group: ReplicaGroup, workers: number, emit: (event: EngineEvent) => void): Promise<StartPoint> {
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
  return { state: { ...ckpt.state, workers }, epoch: ckpt.epoch + 1, batchesDone: ckpt.batchesDone };
}

/**
 * The batches of an epoch that are trained, with their index: at most `loop.batches`, and none of
 * the first `batchesDone` (trained before the checkpoint this run resumed from).
 */
async function* epochBatches(loop: Loop, epoch: number, batchesDone: number): AsyncGenerator<{ batch: Batch; index: number }> {
  let index = 0;
  for await (const batch of loop.pipeline.epoch(epoch - 1)) {
    if (index >= loop.batches) break;
    if (index >= batchesDone) yield { batch, index };
    index++;
  }
}

/**
 * Trains an epoch's batches and returns its sums, or null when a stop request ended the run inside
 * the epoch. Pause and stop are honoured between batches.
 */
async function trainEpoch(loop: Loop, state: TrainerState, epoch: number, lambdaNow: number[], batchesDone: number): Promise<EpochSums | null> {
  const { config, emit, control } = loop;
  const sums = state.partial ?? emptyEpochSums(loop.exitCount);
  let lastProgress = 0;
  for await (const { batch, index } of epochBatches(loop, epoch, batchesDone)) {
    await control.waitWhilePaused(emit);
    if (control.stopRequested) {
      await stopInEpoch(loop, state, epoch, index, sums);
      return null;
    }
    const loss = await trainBatch(loop, state, sums, batch, { epoch, batch: index, lambda: lambdaNow });
    const done = index + 1;
    if (performance.now() - lastProgress > PROGRESS_MS || done === loop.batches) {
      lastProgress = performance.now();
      emit({ type: 'progress', epoch, epochs: config.epochs, batch: done, batches: loop.batches, phase: 'train', loss, imagesPerSecond: throughput(sums) });
    }
  }
  return sums;
}

/** One minibatch, all its replays; adds its time and images to the sums and returns the last replay's loss. */
async function trainBatch(
  loop: Loop, state: TrainerState, sums: EpochSums, batch: Batch, at: Pick<StepPosition, 'epoch' | 'batch' | 'lambda'>,
): Promise<number> {
  const { config, replays } = loop;
  const t0 = performance.now();
  const step = (at.epoch - 1) * loop.batches + at.batch;
  const lr = learningRate(config.lr, step, loop.totalSteps);
  // One SGD step per replay (Free-m replays a minibatch m times, the learning rate advancing 1/m of a step each).
  const lrs = Array.from({ length: replays }, (_, r) => learningRate(config.lr, step + r / replays, loop.totalSteps));
  const position = { ...at, lrs, clean: at.batch % CLEAN_EVERY === 0 };
  const x = batch.x.subarray(0, batch.size * IMAGE_VALUES);
  const loss = await loop.group.step({ x, y: batch.y.subarray(0, batch.size) }, position, sums, (_r, value) => {
    if (!Number.isFinite(value)) throw new NanLossError(`loss became ${value} at epoch ${at.epoch}, batch ${at.batch + 1} (learning rate ${lr})`);
  });
  const seconds = (performance.now() - t0) / 1000;
  sums.seconds += seconds;
  sums.images += batch.size * replays;
  state.seconds += seconds;
  return loss;
}

/** A stop between batches: the checkpoint keeps the epoch's sums so far, so a resumed epoch reports what an uninterrupted one would. */
async function stopInEpoch(loop: Loop, state: TrainerState, epoch: number, batchesDone: number, sums: EpochSums): Promise<void> {
  state.partial = sums;
  await save(loop, state, loop.paths.last, epoch - 1, batchesDone);
  loop.emit({ type: 'checkpoint', epoch: epoch - 1, path: loop.paths.last, best: false });
  finish(loop.emit, 'stopped', epoch - 1, state);
}

/**
 * After an epoch's batches: held-out accuracy, the overfitting probe and the epoch's metrics. Returns
 * the state after the epoch, whether its weights are the best so far, and the early-stop reason if
 * the run ends here.
 */
async function endEpoch(
  loop: Loop, state: TrainerState, epoch: number, lambdaNow: number[], sums: EpochSums,
): Promise<{ state: TrainerState; best: boolean; earlyStop: string | null }> {
  const { config, emit, exitCount } = loop;
  emit({ type: 'progress', epoch, epochs: config.epochs, batch: loop.batches, batches: loop.batches, phase: 'eval', loss: 0, imagesPerSecond: 0 });
  const tEval = performance.now();
  const val = await loop.group.robustAccuracy(loop.valSet, loop.eps, config.batchSize, mixSeed(config.seed, epoch, -1));
  const probe = await loop.group.robustAccuracy(loop.probeSet, loop.eps, config.batchSize, mixSeed(config.seed, epoch, -2));
  state.seconds += (performance.now() - tEval) / 1000;
  const overfit = detectOverfitting(state.overfit, probe);
  const earlyStop = earlyStopReason(config, overfit, epoch);
  const norms = await loop.group.fcNorms();
  const metrics: EpochMetrics = {
    epoch,
    lr: learningRate(config.lr, epoch * loop.batches - 1, loop.totalSteps),
    seconds: sums.seconds,
    imagesPerSecond: throughput(sums),
    exits: exitMetrics(exitCount, sums, norms, lambdaNow, val),
    probe: { fgsmAcc: probe.fgsm, pgdAcc: probe.pgd },
    catastrophicOverfitting: { detected: overfit.detected, exits: overfit.exits, reason: earlyStop ?? overfit.reason },
  };
  const best = bestScore(config, state, val, exitCount, earlyStop !== null);
  const next = { ...state, overfit: overfit.next, partial: null, last: metrics, ...(best !== null ? { bestValPgd: best, bestEpoch: epoch } : {}) };
  emit({ type: 'epoch', metrics });
  if (overfit.detected && !earlyStop) emit({ type: 'log', level: 'warn', message: `catastrophic overfitting at epoch ${epoch}: ${overfit.reason}` });
  return { state: next, best: best !== null, earlyStop };
}

function exitMetrics(exitCount: number, sums: EpochSums, norms: number[], lambdaNow: number[], val: RobustAccuracy): ExitEpochMetrics[] {
  const adv = rates(sums.adv);
  const clean = rates(sums.clean);
  return Array.from({ length: exitCount }, (_, e) => ({
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
  }));
}

/**
 * Wong et al.'s early stopping, when the run asks for it: catastrophic overfitting ends the run at
 * the flagged epoch. The reason recorded for that epoch, or null to go on.
 */
function earlyStopReason(config: TrainConfig, overfit: ReturnType<typeof detectOverfitting>, epoch: number): string | null {
  return config.earlyStop && overfit.detected ? `early-stopped: catastrophic overfitting at epoch ${epoch} (${overfit.reason})` : null;
}

/**
 * The epoch's mean held-out PGD accuracy over the exits if its weights are the best so far (and the
 * run keeps a best checkpoint), else null. An early-stopped epoch's weights are never the best.
 */
function bestScore(config: TrainConfig, state: TrainerState, val: RobustAccuracy, exitCount: number, earlyStopped: boolean): number | null {
  const meanPgd = val.pgd.reduce((a, v) => a + v, 0) / exitCount;
  return config.keepBest && !earlyStopped && meanPgd > state.bestValPgd ? meanPgd : null;
}

/** The epoch's last checkpoint, copied to the best one when its weights are the best so far. */
async function checkpointEpoch(loop: Loop, state: TrainerState, epoch: number, best: boolean): Promise<void> {
  await save(loop, state, loop.paths.last, epoch, 0);
  loop.emit({ type: 'checkpoint', epoch, path: loop.paths.last, best: false });
  if (best) {
    copyCheckpoint(loop.paths.last, loop.paths.best);
    loop.emit({ type: 'checkpoint', epoch, path: loop.paths.best, best: true });
  }
}

async function save(loop: Loop, state: TrainerState, file: string, epoch: number, batchesDone: number): Promise<void> {
  writeCheckpoint(file, { epoch, batchesDone, state, ...(await loop.group.state()) });
}

function finish(emit: (event: EngineEvent) => void, status: 'completed' | 'stopped', epochs: number, state: TrainerState): void {
  emit({ type: 'finished', status, epochs, seconds: state.seconds, final: state.last, bestEpoch: state.bestEpoch });
}

const throughput = (sums: EpochSums) => sums.images / Math.max(sums.seconds, 1e-9);
