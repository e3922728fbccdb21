// One attack on one batch of images: the unit of work of an evaluation. Its outcome depends only on
// the network, the batch's images and the task (attack, ε, thresholds, seed), never on which thread
// ran it or what ran before, so an evaluation can hand its batches to any number of workers and
// merge their outcomes in image order into the report one thread would write.
import * as tf from '@tensorflow/tfjs';
import type { EvalAttack } from '../../../src-shared/evaluation';
import type { ExitTarget, MultiExitNet } from '../model/multi-exit';
import { attackNamed, type AttackSettings } from './attack-specs';
import { predictAll, RobustTracker } from './tracker';

export interface ImageSet {
  /** Pixels in [0,1], row-major NHWC. */
  x: Float32Array;
  y: Int32Array;
  count: number;
  shape: [number, number, number];
}

export function batchOf(set: ImageSet, start: number, end: number): { x: tf.Tensor4D; y: tf.Tensor1D; labels: Int32Array } {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    x: tf.tensor4d(set.x.subarray(start * size, end * size), [end - start, ...set.shape]),
    y: tf.tensor1d(set.y.subarray(start, end), 'int32'),
    labels: set.y.slice(start, end),
  };
}

export interface BatchTask {
  attack: EvalAttack;
  /** L∞ radius in [0,1] pixel units. */
  eps: number;
  /** Early-exit thresholds, one per budget (none for the ε sweep). */
  thresholds: number[];
  /** The batch: images [start, end) of the evaluated set. */
  start: number;
  end: number;
  seed: number;
}

/** What the tasks of one evaluation share. */
export interface BatchSetup {
  target: ExitTarget;
  settings: AttackSettings;
}

/** What a batch yields, in plain arrays: it may cross a thread boundary. */
export interface BatchOutcome {
  /** Per classifier (the exits, then one per threshold), per image: 1 where it resisted. */
  robust: Uint8Array[];
  /** Per threshold, per image: the exit the early-exit model took. */
  taken: Int32Array[];
  /** Per ensemble component: images it newly fooled, per classifier. */
  gains: Record<string, number[]>;
  seconds: number;
}

/** Runs tasks and gives their outcomes in the tasks' order, saying when each starts and ends. */
export type BatchExecutor = (tasks: BatchTask[], progress: { started(task: BatchTask): void; done(task: BatchTask): void }) => Promise<BatchOutcome[]>;

export async function attackBatch(net: MultiExitNet, images: ImageSet, task: BatchTask, setup: BatchSetup): Promise<BatchOutcome> {
  const t0 = performance.now();
  const attack = attackNamed(task.attack, setup.settings);
  const batch = batchOf(images, task.start, task.end);
  try {
    const tracker = new RobustTracker(net, batch.labels, task.thresholds, await predictAll(net, batch.x));
    const outcome = await attack.run(net, batch.x, batch.y, { eps: task.eps, target: setup.target, seed: task.seed, tracker });
    outcome.xAdv.dispose();
    return { robust: tracker.robust, taken: tracker.taken, gains: Object.fromEntries(tracker.gains), seconds: (performance.now() - t0) / 1000 };
  } finally {
    tf.dispose([batch.x, batch.y]);
  }
}

/** The tasks one after another, on this thread's network. */
export function localExecutor(net: MultiExitNet, images: ImageSet, setup: BatchSetup): BatchExecutor {
  return async (tasks, progress) => {
    const outcomes: BatchOutcome[] = [];
    for (const task of tasks) {
      progress.started(task);
      outcomes.push(await attackBatch(net, images, task, setup));
      progress.done(task);
    }
    return outcomes;
  };
}
