// `npm run bench [-- --json] [--backend wasm] [--batch 64] [--steps 3] [--methods standard,fgsm-me,pgd-10]
//   [--workers-max N] [--no-pytorch] [--python /usr/bin/python3] [--aa-samples 16] [--aa-train-steps 150] [--eval-samples 0] [--soak MINUTES]`
//
// --eval-samples N adds AutoAttack on the untrained reference MSDNet (its worst case: about three
// minutes per image on one thread), so it is off by default.
//
// Training throughput of the reference CIFAR MSDNet per method, where one step's time goes (per
// kernel), the fgsm-me step's scaling over workers beside the PyTorch CPU peer at the same thread
// counts, the wasm Conv2DBackpropFilter kernel against the cpu backend's, the input pipeline
// against the engine it feeds, and evaluation throughput under PGD-20 and AutoAttack on an
// untrained and on a briefly trained network. Long by design: never part of the test suite.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendSchema } from '../../src-shared/config';
import { selectBackend } from '../../src-main/engine/backends/select';
import { describeBackend } from '../../src-shared/engine-messages';
import { openDataset } from '../../src-main/datasets/catalog';
import { measurePipeline } from '../../src-main/datasets/throughput';
import { makeStepRig, REFERENCE_MODEL } from './lib/training-step';
import { formatProfile, profileKernels, type KernelRow } from './lib/kernel-profile';
import { benchTrainedEvaluation, benchUntrainedEvaluation } from './lib/evaluation';
import { benchScaling, formatScaling } from './lib/scaling';
import { timeSteps } from './lib/timing';
import { PEER_PYTHON } from './lib/pytorch-peer';
import { runSoak } from './lib/soak';
import { buildMsdnet } from '../../src-main/engine/model/msdnet';

interface Options {
  json: boolean;
  backend: string;
  batch: number;
  steps: number;
  methods: string[];
  /** Images attacked on the untrained network (0 skips it). */
  evalSamples: number;
  /** Scaling table from 1 to this many workers (and PyTorch threads). */
  workersMax: number;
  pytorch: boolean;
  /** Interpreter of the PyTorch peer (Debian's python3-torch by default). */
  python: string;
  /** Test images under AutoAttack on the briefly trained network, and its training steps (0 skips it). */
  aaSamples: number;
  aaTrainSteps: number;
  /** Minutes of the memory soak (training, then evaluation); when set, the bench runs only that. */
  soakMinutes: number | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { json: false, backend: 'wasm', batch: 64, steps: 3, methods: ['standard', 'fgsm-me', 'pgd-10'], evalSamples: 0,
    workersMax: os.availableParallelism(), pytorch: true, python: PEER_PYTHON, aaSamples: 16, aaTrainSteps: 150, soakMinutes: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--backend') o.backend = BackendSchema.parse(value());
    else if (a === '--batch') o.batch = positive(a, value());
    else if (a === '--steps') o.steps = positive(a, value());
    else if (a === '--methods') o.methods = value().split(',');
    else if (a === '--eval-samples') o.evalSamples = nonNegative(a, value());
    else if (a === '--workers-max') o.workersMax = positive(a, value());
    else if (a === '--no-pytorch') o.pytorch = false;
    else if (a === '--python') o.python = value();
    else if (a === '--aa-samples') o.aaSamples = nonNegative(a, value());
    else if (a === '--aa-train-steps') o.aaTrainSteps = nonNegative(a, value());
    else if (a === '--soak') o.soakMinutes = positive(a, value());
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

function nonNegative(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got '${text}'`);
  return n;
}

interface MethodResult {
  method: string;
  backend: string;
  batchSize: number;
  /** Median over the timed steps, and every step's time. */
  msPerStep: number;
  stepMs: number[];
  imagesPerSecond: number;
  /** Forward-pass multiply-accumulates of the whole network (every exit), per image. */
  macsPerImage: number;
  forwardEquivalents: number;
  effectiveGflops: number;
  /** Peak bytes held in tensors during one step (tf.profile), and the process's resident set after it. */
  peakTensorBytes: number;
  rssBytes: number;
  kernels: KernelRow[];
}

async function benchMethod(method: string, o: Options, log: (s: string) => void): Promise<MethodResult> {
  const rig = makeStepRig(method, o.batch);
  try {
    log(`${method}: warm-up step, then ${o.steps} timed…`);
    const { msPerStep, stepMs: times } = await timeSteps(() => rig.step(), o.steps);
    log(`${method}: profiling one step…`);
    const profile = await profileKernels(() => rig.step());
    log(formatProfile(profile, 12));
    const macs = rig.net.summary.macs;
    const imagesPerSecond = (rig.imagesPerStep * 1000) / msPerStep;
    return {
      method,
      backend: tf.getBackend(),
      batchSize: o.batch,
      msPerStep,
      stepMs: times,
      imagesPerSecond,
      macsPerImage: macs,
      forwardEquivalents: rig.forwardEquivalents,
      // forwardEquivalents covers a whole step (all of Free-m's replays) on one batch.
      effectiveGflops: (2 * macs * rig.forwardEquivalents * o.batch) / msPerStep / 1e6,
      peakTensorBytes: profile.peakBytes,
      rssBytes: process.memoryUsage().rss,
      kernels: profile.rows.slice(0, 12),
    };
  } finally {
    rig.dispose();
  }
}

/**
 * Shapes of the reference MSDNet's filter gradients: [batch, side, in, out, kernel, stride]. Batch 16
 * keeps the cpu backend's side of the comparison to seconds.
 */
const FILTER_SHAPES: Array<[number, number, number, number, number, number]> = [
  [16, 32, 16, 16, 3, 1],
  [16, 16, 32, 32, 3, 2],
  [16, 8, 64, 64, 3, 1],
  [16, 32, 48, 16, 1, 1],
];

async function benchFilterKernel(backend: string, log: (s: string) => void) {
  const rows = [];
  for (const [b, side, ci, co, k, s] of FILTER_SHAPES) {
    const out = Math.ceil(side / s);
    const x = Float32Array.from({ length: b * side * side * ci }, (_, i) => Math.sin(i * 0.37));
    const dy = Float32Array.from({ length: b * out * out * co }, (_, i) => Math.cos(i * 0.11));
    const timed: Record<string, { ms: number; data: Float32Array }> = {};
    for (const name of [backend, 'cpu']) {
      await tf.setBackend(name);
      const xt = tf.tensor4d(x, [b, side, side, ci]);
      const dyt = tf.tensor4d(dy, [b, out, out, co]);
      const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dilations: 1, filterShape: [k, k, ci, co] };
      let best = Infinity;
      let data: Float32Array = new Float32Array();
      for (let r = 0; r < (name === 'cpu' ? 1 : 3); r++) {
        const t0 = performance.now();
        const g = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, attrs as never) as tf.Tensor;
        data = (await g.data()) as Float32Array;
        best = Math.min(best, performance.now() - t0);
        g.dispose();
      }
      tf.dispose([xt, dyt]);
      timed[name] = { ms: best, data };
    }
    let err = 0;
    let scale = 0;
    const ref = timed.cpu.data;
    timed[backend].data.forEach((v, i) => {
      err = Math.max(err, Math.abs(v - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    });
    const macs = b * out * out * k * k * ci * co;
    const row = {
      shape: `x ${b}×${side}×${side}×${ci}, filter ${k}×${k}×${ci}×${co}, stride ${s}`,
      backend,
      ms: timed[backend].ms,
      cpuMs: timed.cpu.ms,
      speedup: timed.cpu.ms / timed[backend].ms,
      gflops: (2 * macs) / timed[backend].ms / 1e6,
      maxRelativeError: err / scale,
    };
    log(`Conv2DBackpropFilter ${row.shape}: ${row.ms.toFixed(1)} ms (${row.gflops.toFixed(1)} GFLOP/s) vs cpu ${row.cpuMs.toFixed(0)} ms, ` +
      `×${row.speedup.toFixed(0)}, rel. error ${row.maxRelativeError.toExponential(1)}`);
    rows.push(row);
  }
  await tf.setBackend(backend);
  return rows;
}

/** The input pipeline alone on the synthetic set, in a throw-away data folder. */
async function benchPipeline(batch: number) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-bench-'));
  try {
    const { train } = openDataset(home, 'synthetic');
    return await measurePipeline(train, { batchSize: batch, shuffle: true, augment: true, flip: true, seed: 1 }, 2);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** ExitLab's own MAC count of the reference network, which the PyTorch peer must equal. */
function referenceMacs(): number {
  const net = buildMsdnet(REFERENCE_MODEL, { numClasses: 10, mean: [0, 0, 0], std: [1, 1, 1], seed: 1 });
  const macs = net.summary.macs;
  net.dispose();
  return macs;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // With --json, stdout carries only the result; the narrative goes to stderr.
  const log = (s: string) => (o.json ? process.stderr : process.stdout).write(s + '\n');
  const report = await selectBackend(o.backend as never);
  log(`backend: ${report.backend} (${report.skipped.map((s) => `${s.backend} skipped: ${s.reason}`).join('; ') || 'first choice'})`);
  if (report.adapter) log(`adapter: ${describeBackend(report)}`);
  if (o.soakMinutes !== null) {
    const soak = await runSoak(o.soakMinutes, report, log);
    if (o.json) process.stdout.write(JSON.stringify({ backend: report, soak }) + '\n');
    return;
  }

  const results: MethodResult[] = [];
  for (const m of o.methods) {
    const r = await benchMethod(m, o, log);
    log(`${m}: ${r.msPerStep.toFixed(0)} ms/step, ${r.imagesPerSecond.toFixed(1)} img/s, ${r.effectiveGflops.toFixed(2)} effective GFLOP/s, peak tensors ` +
      `${(r.peakTensorBytes / 2 ** 20).toFixed(0)} MiB`);
    results.push(r);
    const gpu = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
    if (gpu.numBytesInGPU !== undefined) {
      log(`${m}: GPU memory ${(gpu.numBytesInGPU / 2 ** 20).toFixed(0)} MiB in tensors, ${(gpu.numBytesAllocatedInGPU! / 2 ** 20).toFixed(0)} MiB allocated`);
    }
  }
  const pipeline = await benchPipeline(o.batch);
  const consumer = results.find((r) => r.method === 'fgsm-me') ?? results[0];
  const pipelineRatio = consumer ? pipeline.imagesPerSecond / consumer.imagesPerSecond : null;
  log(`input pipeline: ${pipeline.imagesPerSecond.toFixed(0)} img/s (${pipeline.msPerBatch.toFixed(2)} ms per batch of ` +
    `${o.batch})${pipelineRatio ? `, ×${pipelineRatio.toFixed(0)} the ${consumer.method} step's rate` : ''}`);
  const scaling = await benchScaling({
    method: 'fgsm-me', batch: o.batch, steps: o.steps, maxWorkers: o.workersMax, pytorch: o.pytorch, python: o.python, expectMacs: referenceMacs(),
    backend: BackendSchema.parse(o.backend),
  }, log);
  log(formatScaling(scaling));
  const evaluation = o.evalSamples > 0 ? await benchUntrainedEvaluation(o.evalSamples, log) : [];
  const trained = o.aaSamples > 0 && o.aaTrainSteps > 0 ? await benchTrainedEvaluation(o.aaSamples, o.aaTrainSteps, log) : null;
  const filterKernel = await benchFilterKernel(tf.getBackend(), log);

  const out = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    backend: report,
    model: 'MSDNet, reference CIFAR settings (7 blocks, 10 classes)',
    effectiveGflopsCounting: 'forward-pass equivalents per step: standard 3, FGSM 6, PGD-k 3(k+1); 2 FLOPs per MAC',
    results: results.map(({ kernels, ...r }) => r),
    kernelProfiles: Object.fromEntries(results.map((r) => [r.method, r.kernels])),
    inputPipeline: { ...pipeline, consumer: consumer?.method ?? null, timesFasterThanConsumer: pipelineRatio },
    scaling,
    evaluation: { untrained: evaluation, trained },
    conv2dBackpropFilter: filterKernel,
  };
  if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  console.error(`bench: error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
