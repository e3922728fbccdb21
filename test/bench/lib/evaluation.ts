// Evaluation throughput (PGD-20, standard AutoAttack) in two settings: the reference MSDNet
// untrained (AutoAttack's worst case: nothing is fooled, every component spends its whole budget),
// and a 3-block MSDNet briefly trained with fgsm-me on real CIFAR-10 when ../shared/data holds it
// (the synthetic set otherwise), where attacks succeed and AutoAttack's later components run only
// on the images still robust, as on a model a user evaluates.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, TrainConfigSchema } from '../../../src-shared/config';
import type { EvalAttack } from '../../../src-shared/evaluation';
import { openDataset } from '../../../src-main/datasets/catalog';
import { parseRecords } from '../../../src-main/datasets/formats/cifar';
import { BatchPipeline } from '../../../src-main/datasets/pipeline';
import type { Split } from '../../../src-main/datasets/types';
import { DEFAULT_SETTINGS } from '../../../src-main/engine/eval/attack-specs';
import { evaluateRobustness } from '../../../src-main/engine/eval/robustness';
import type { ImageSet } from '../../../src-main/engine/eval/batch-attack';
import type { ExitTarget, MultiExitNet } from '../../../src-main/engine/model/multi-exit';
import { buildMsdnet } from '../../../src-main/engine/model/msdnet';
import { createMethod } from '../../../src-main/engine/train/methods';
import { SgdMomentum } from '../../../src-main/engine/train/optimizer';
import { paperLambda } from '../../../src-shared/presets';
import { trainStep } from '../../../src-main/engine/train/step';
import { REFERENCE_MODEL } from './training-step';
import { repoRoot } from './paths';

export interface EvaluationRow {
  network: 'untrained' | 'trained';
  attack: string;
  samples: number;
  seconds: number;
  imagesPerSecond: number;
  /** Robust accuracy of the attacked exit (the last). */
  lastExitAccuracy: number;
}

const NORMALISATION = { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] };

async function timeAttacks(
  net: MultiExitNet,
  images: ImageSet,
  attacks: EvalAttack[],
  target: ExitTarget,
  network: EvaluationRow['network'],
  log: (s: string) => void,
): Promise<EvaluationRow[]> {
  const outcome = await evaluateRobustness(net, images, { ...images, count: 0 }, {
    eps: 8 / 255, attacks, target, settings: DEFAULT_SETTINGS,
    budgets: [], costs: net.summary.perExit.map((e) => e.macs), batchSize: images.count, seed: 1,
  });
  return outcome.attacks.map((a) => {
    const row = {
      network, attack: a.label, samples: images.count, seconds: a.seconds, imagesPerSecond: images.count / a.seconds,
      lastExitAccuracy: a.perExit[a.perExit.length - 1],
    };
    log(`evaluation (${network}) ${row.attack}: ${row.seconds.toFixed(1)} s for ${row.samples} images, ${row.imagesPerSecond.toFixed(2)} img/s (last exit ` +
      `${(100 * row.lastExitAccuracy).toFixed(0)}%)`);
    return row;
  });
}

/** Reference MSDNet, random weights, labels = its own last-exit predictions so every image starts correct. */
export async function benchUntrainedEvaluation(samples: number, log: (s: string) => void): Promise<EvaluationRow[]> {
  const net = buildMsdnet(REFERENCE_MODEL, { numClasses: 10, ...NORMALISATION, seed: 3 });
  try {
    const x = tf.randomUniform([samples, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const logits = net.forward(x, false);
    const y = (await tf.argMax(logits[logits.length - 1], 1).data()) as Int32Array;
    const images: ImageSet = { x: (await x.data()) as Float32Array, y: Int32Array.from(y), count: samples, shape: [32, 32, 3] };
    tf.dispose([x, logits]);
    return await timeAttacks(net, images, ['pgd20', 'aa'], { kind: 'average' }, 'untrained', log);
  } finally {
    net.dispose();
  }
}

/** The CIFAR-10 subset of ../shared/data when present, else the synthetic set (in a throw-away home). */
function benchData(): { name: string; train: Split; test: Split } {
  const dir = path.join(repoRoot(), '..', 'shared', 'data');
  const file = (f: string) => path.join(dir, f);
  if (fs.existsSync(file('cifar10-train.bin')) && fs.existsSync(file('cifar10-test.bin'))) {
    const layout = { labelBytes: 1, labelIndex: 0, classes: 10 };
    const read = (f: string) => parseRecords([{ file: f, data: new Uint8Array(fs.readFileSync(file(f))) }], layout);
    return { name: 'CIFAR-10 subset (../shared/data)', train: read('cifar10-train.bin'), test: read('cifar10-test.bin') };
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-bench-'));
  try {
    const { train, test } = openDataset(home, 'synthetic');
    return { name: 'synthetic', train, test };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function firstImages(split: Split, count: number): ImageSet {
  const n = Math.min(count, split.count);
  const x = new Float32Array(n * 3072);
  for (let i = 0; i < x.length; i++) x[i] = split.images[i] / 255;
  return { x, y: Int32Array.from(split.labels.subarray(0, n)), count: n, shape: [32, 32, 3] };
}

/**
 * A 3-block MSDNet trained `trainSteps` fgsm-me steps (batch 64, augmented, constant learning rate
 * 0.05: short enough for the bench, long enough that attacks succeed), then clean and AutoAttack on
 * the last exit of `samples` test images.
 */
export async function benchTrainedEvaluation(
  samples: number,
  trainSteps: number,
  log: (s: string) => void,
): Promise<{ data: string; trainSteps: number; trainSeconds: number; rows: EvaluationRow[] }> {
  const data = benchData();
  const cfg = TrainConfigSchema.parse({ method: 'fgsm-me', model: ModelConfigSchema.parse({ blocks: 3 }) });
  const net = buildMsdnet(cfg.model, { numClasses: 10, ...NORMALISATION, seed: 1 });
  const method = createMethod(cfg);
  const vars = net.trainableVariables;
  const optimizer = new SgdMomentum(vars, cfg.momentum, cfg.weightDecay);
  const ctx = { net, eps: 8 / 255, alpha: method.defaultAlpha(8) / 255, lambda: paperLambda(net.exitCount), seed: 1 };
  const pipeline = new BatchPipeline(data.train, { batchSize: cfg.batchSize, shuffle: true, augment: true, flip: true, seed: 1, dropLast: true });
  try {
    const t0 = performance.now();
    let done = 0;
    for (let epoch = 0; done < trainSteps; epoch++) {
      for await (const b of pipeline.epoch(epoch)) {
        if (done >= trainSteps) break;
        const x = tf.tensor4d(b.x, [b.size, 32, 32, 3]);
        const y = tf.tensor1d(b.y, 'int32');
        await trainStep(method, ctx, x, y, vars, optimizer, () => 0.05);
        tf.dispose([x, y]);
        done += 1;
      }
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    log(`evaluation (trained): 3-block MSDNet, ${trainSteps} fgsm-me steps on ${data.name} in ${trainSeconds.toFixed(0)} s`);
    const rows = await timeAttacks(net, firstImages(data.test, samples), ['clean', 'aa'], { kind: 'exit', index: net.exitCount - 1 }, 'trained', log);
    return { data: data.name, trainSteps, trainSeconds, rows };
  } finally {
    method.dispose?.();
    optimizer.dispose();
    net.dispose();
  }
}
