// One copy of a run's network with its optimizer and method, in this thread: what a training step,
// a held-out probe, a checkpoint and a resume do to it. The trainer drives one of these directly
// when a run has one worker; with N workers each worker thread drives its own (engine/parallel).
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../../../src-shared/config';
import { IMAGE_SHAPE, type DatasetManifest } from '../../../src-shared/datasets';
import { buildMsdnet } from '../model/msdnet';
import type { MultiExitNet } from '../model/multi-exit';
import { createMethod } from './methods';
import type { TrainingMethod } from './methods/types';
import { SgdMomentum } from './optimizer';
import { trainStep, type WeightUpdate } from './step';
import { accumulate, emptySums, type ExitSums } from './epoch-stats';
import { robustAccuracy, robustCounts, type HeldOut, type RobustAccuracy, type RobustCounts } from './monitor';
import { mixSeed } from '../../random';
import { loadWeightsInto, modelWeightTensors, snapshot, type CheckpointTensor } from './checkpoint';
import { exchangeLength } from '../parallel/exchanged-update';
import { activationBytesPerImage, checkWasmHeap } from '../parallel/memory';

/** What a network is built from besides the run's configuration (the data set's classes and statistics). */
export type NetData = Pick<DatasetManifest, 'mean' | 'std'> & { numClasses: number };

export const netDataOf = (manifest: DatasetManifest): NetData => ({ numClasses: manifest.classes.length, mean: manifest.mean, std: manifest.std });

export function buildNetFrom(config: TrainConfig, data: NetData): MultiExitNet {
  return buildMsdnet(config.model, { numClasses: data.numClasses, mean: data.mean, std: data.std, seed: config.seed });
}

export interface StepInput {
  /** This replica's images (NHWC, [0,1]) and labels. */
  x: Float32Array;
  y: Int32Array;
  lambda: number[];
  /** Learning rate of each replay. */
  lrs: number[];
  seed: number;
  /** Also measure clean accuracy on these images after the update (one extra forward pass). */
  clean: boolean;
}

export interface StepResult {
  /** Loss of each replay (the mean over this replica's images). */
  losses: number[];
  /** Per-exit sums on the crafted inputs, over every replay. */
  adv: ExitSums;
  clean: ExitSums | null;
}

export interface ReplicaState {
  weights: CheckpointTensor[];
  optimizer: CheckpointTensor[];
}

export class Replica {
  readonly net: MultiExitNet;
  readonly vars: tf.Variable[];
  readonly optimizer: SgdMomentum;
  private readonly method: TrainingMethod;

  constructor(config: TrainConfig, data: NetData, private readonly eps: number, private readonly alpha: number) {
    this.method = createMethod(config);
    this.net = buildNetFrom(config, data);
    this.vars = this.net.trainableVariables;
    this.optimizer = new SgdMomentum(this.vars, config.momentum, config.weightDecay);
  }

  get replays(): number {
    return this.method.replays ?? 1;
  }

  /** What the memory checks (engine/parallel/memory.ts) need to know of this replica. */
  footprint(): { exchangeLength: number; activationBytesPerImage: number } {
    const model = this.net.layersModel;
    return { exchangeLength: exchangeLength(this.vars, model.nonTrainableWeights), activationBytesPerImage: activationBytesPerImage(model) };
  }

  /**
   * One minibatch through the method and `update` (this replica's own SGD unless a data-parallel
   * exchange wraps it). Metrics are added into `into` (fresh sums by default). `checkLoss` sees
   * each replay's loss before its metrics count and may throw.
   */
  async step(
    input: StepInput,
    options: { update?: WeightUpdate; into?: { adv: ExitSums; clean: ExitSums }; checkLoss?: (replay: number, loss: number) => void } = {},
  ): Promise<StepResult> {
    const { update = this.optimizer, checkLoss = () => {} } = options;
    const n = input.y.length;
    const x = tf.tensor4d(input.x, [n, ...IMAGE_SHAPE]);
    const y = tf.tensor1d(input.y, 'int32');
    const adv = options.into?.adv ?? emptySums(this.net.exitCount);
    const losses: number[] = [];
    try {
      const ctx = { net: this.net, eps: this.eps, alpha: this.alpha, lambda: input.lambda, seed: input.seed };
      await trainStep(this.method, ctx, x, y, this.vars, update, (r) => input.lrs[r], async (r, value, logits) => {
        checkLoss(r, value);
        losses.push(value);
        await accumulate(adv, logits, y);
      });
      let clean: ExitSums | null = null;
      if (input.clean) {
        clean = options.into?.clean ?? emptySums(this.net.exitCount);
        const logits = tf.tidy(() => this.net.forward(x, false));
        await accumulate(clean, logits, y);
        tf.dispose(logits);
      }
      return { losses, adv, clean };
    } finally {
      tf.dispose([x, y]);
    }
  }

  probe(set: HeldOut, eps: number, batchSize: number, seed: number, offset = 0): Promise<RobustCounts> {
    return robustCounts(this.net, set, eps, batchSize, seed, offset);
  }

  /** ‖W_fc‖ of each exit. */
  async fcNorms(): Promise<number[]> {
    const norms = tf.tidy(() => tf.stack(this.net.fcKernels.map((k) => tf.norm(k.read()))));
    const values = Array.from(await norms.data());
    norms.dispose();
    return values;
  }

  async state(): Promise<ReplicaState> {
    return {
      weights: await snapshot(modelWeightTensors(this.net.layersModel)),
      optimizer: await snapshot(this.optimizer.velocity.map((v, i) => ({ name: `velocity/${i}`, tensor: v }))),
    };
  }

  load(state: ReplicaState): void {
    loadWeightsInto(this.net.layersModel, state.weights);
    const velocity = state.optimizer.map((t) => tf.tensor(t.data, t.shape));
    this.optimizer.setState(velocity);
    tf.dispose(velocity);
  }

  dispose(): void {
    this.method.dispose?.();
    this.optimizer.dispose();
    this.net.dispose();
  }
}

/** Where a step sits in the run, and what changes with it. */
export interface StepPosition {
  epoch: number;
  batch: number;
  lambda: number[];
  lrs: number[];
  clean: boolean;
}

/**
 * The run's network as the trainer sees it, however many replicas hold it: one in this thread
 * (`LocalGroup`), or one per worker thread kept identical by the gradient exchange
 * (engine/parallel/thread-group.ts).
 */
export interface ReplicaGroup {
  readonly workers: number;
  readonly summary: MultiExitNet['summary'];
  /**
   * One minibatch; its metrics are added into `sums`; returns the last replay's loss. `checkLoss`
   * sees each replay's loss (of the whole minibatch) and may throw.
   */
  step(
    batch: { x: Float32Array; y: Int32Array },
    at: StepPosition,
    sums: { adv: ExitSums; clean: ExitSums },
    checkLoss: (replay: number, loss: number) => void,
  ): Promise<number>;
  robustAccuracy(set: HeldOut, eps: number, batchSize: number, seed: number): Promise<RobustAccuracy>;
  fcNorms(): Promise<number[]>;
  state(): Promise<ReplicaState>;
  load(state: ReplicaState): Promise<void>;
  dispose(): Promise<void>;
}

/** One replica in this thread: the trainer's path for a one-worker run. */
export class LocalGroup implements ReplicaGroup {
  readonly workers = 1;
  private readonly replica: Replica;

  constructor(config: TrainConfig, data: NetData, eps: number, alpha: number, private readonly seed: number) {
    this.replica = new Replica(config, data, eps, alpha);
    try {
      checkWasmHeap(tf.getBackend(), { method: config.method, ...this.replica.footprint(), shardImages: config.batchSize });
    } catch (err) {
      this.replica.dispose();
      throw err;
    }
  }

  get summary() {
    return this.replica.net.summary;
  }

  async step(
    batch: { x: Float32Array; y: Int32Array },
    at: StepPosition,
    sums: { adv: ExitSums; clean: ExitSums },
    checkLoss: (replay: number, loss: number) => void,
  ): Promise<number> {
    const r = await this.replica.step({ ...batch, lambda: at.lambda, lrs: at.lrs, clean: at.clean, seed: mixSeed(this.seed, at.epoch, at.batch) }, {
      into: sums, checkLoss,
    });
    return r.losses[r.losses.length - 1];
  }

  robustAccuracy(set: HeldOut, eps: number, batchSize: number, seed: number): Promise<RobustAccuracy> {
    return robustAccuracy(this.replica.net, set, eps, batchSize, seed);
  }

  fcNorms(): Promise<number[]> {
    return this.replica.fcNorms();
  }

  state(): Promise<ReplicaState> {
    return this.replica.state();
  }

  async load(state: ReplicaState): Promise<void> {
    this.replica.load(state);
  }

  async dispose(): Promise<void> {
    this.replica.dispose();
  }
}
