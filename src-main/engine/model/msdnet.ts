// MSDNet, CIFAR variant (Huang et al., ICLR 2018), as a tfjs-layers functional model so it can be
// checkpointed and exported. The structure follows the authors' reference implementation: a first
// layer producing one feature map per scale, then dense multi-scale layers (regular convolution
// at the same scale concatenated with a strided convolution from the finer scale), scales pruned
// with depth ("prune max") with 1x1 transition convolutions, and one classifier per block on the
// coarsest scale.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../../src-shared/config';
import { IMAGE_SHAPE } from '../../../src-shared/datasets';
import type { ModelSummary } from '../../../src-shared/engine-messages';
import type { MultiExitNet } from './multi-exit';
import { TWICE_DIFFERENTIABLE, withLazyConvGradient, withOnePassBatchNorm, withTwiceDifferentiableRelu } from './lean-layers';
import { mixSeed } from '../../random';

type SymbolicTensor = tf.SymbolicTensor;

/** Tags the exits' FC initialisers' seeds apart from the convolutions' (seed, layer number). */
const FC_STREAM = 0xfc;

/** Builds layers with stable names and seeded initialisers, and counts parameters and MACs. */
class LayerFactory {
  private counter = 0;
  macs = 0;
  params = 0;

  constructor(private readonly seed: number) {}

  private name(kind: string): string {
    this.counter += 1;
    return `${kind}_${this.counter}`;
  }

  /** Conv (no bias) + batch norm + ReLU, the unit every MSDNet convolution uses. */
  convBnRelu(x: SymbolicTensor, filters: number, kernel: number, stride: number): SymbolicTensor {
    const [, h, w, cin] = x.shape as number[];
    const conv = tf.layers.conv2d({
      name: this.name('conv'),
      filters,
      kernelSize: kernel,
      strides: stride,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: mixSeed(this.seed, this.counter) }),
    });
    withLazyConvGradient(conv, stride);
    const y = conv.apply(x) as SymbolicTensor;
    const oh = Math.ceil(h / stride);
    const ow = Math.ceil(w / stride);
    this.macs += oh * ow * kernel * kernel * cin * filters;
    this.params += kernel * kernel * cin * filters + 2 * filters;
    // Keras momentum 0.9 is PyTorch's 0.1; epsilon as in PyTorch.
    const bn = tf.layers.batchNormalization({ name: this.name('bn'), axis: -1, momentum: 0.9, epsilon: 1e-5 });
    withOnePassBatchNorm(bn, 0.9, 1e-5);
    const relu = tf.layers.reLU({ name: this.name('relu') });
    withTwiceDifferentiableRelu(relu);
    return relu.apply(bn.apply(y)) as SymbolicTensor;
  }

  concat(xs: SymbolicTensor[]): SymbolicTensor {
    return tf.layers.concatenate({ name: this.name('concat'), axis: -1 }).apply(xs) as SymbolicTensor;
  }

  /** Classifier head of the CIFAR variant: two strided 3x3 convolutions, 2x2 average pool, FC. */
  classifier(x: SymbolicTensor, channels: number, numClasses: number, exit: number): { logits: SymbolicTensor; fc: tf.layers.Layer } {
    let y = this.convBnRelu(x, channels, 3, 2);
    y = this.convBnRelu(y, channels, 3, 2);
    const [, h, w] = y.shape as number[];
    y = tf.layers.averagePooling2d({ name: this.name('pool'), poolSize: [h, w], strides: [h, w] }).apply(y) as SymbolicTensor;
    y = tf.layers.flatten({ name: this.name('flatten') }).apply(y) as SymbolicTensor;
    const fc = tf.layers.dense({
      name: `exit${exit}_fc`,
      units: numClasses,
      // PyTorch's nn.Linear default (U(±1/√fan_in)): the paper's λ values were tuned with it, and
      // the penalty's starting size depends on the initial ‖W_fc‖.
      kernelInitializer: tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: mixSeed(this.seed, FC_STREAM, exit) }),
    });
    this.macs += channels * numClasses;
    this.params += channels * numClasses + numClasses;
    return { logits: fc.apply(y) as SymbolicTensor, fc };
  }
}

/** Conv on the finest input scale of a bottleneck: 1x1 to at most bnWidth·nOut channels, then 3x3. */
function convBn(f: LayerFactory, x: SymbolicTensor, nOut: number, stride: number, bottleneck: boolean, bnWidth: number): SymbolicTensor {
  const nIn = (x.shape as number[])[3];
  let y = x;
  if (bottleneck) y = f.convBnRelu(y, Math.min(nIn, bnWidth * nOut), 1, 1);
  return f.convBnRelu(y, nOut, 3, stride);
}

/**
 * Number of scales entering and leaving global layer `n` (1-based) under "prune max": coarser-only
 * after every ceil(L / scales) layers, as in the reference implementation.
 */
export function prunedScales(n: number, totalLayers: number, scales: number): { inScales: number; outScales: number } {
  const interval = Math.ceil(totalLayers / scales);
  return {
    inScales: scales - Math.floor(Math.max(0, n - 2) / interval),
    outScales: scales - Math.floor((n - 1) / interval),
  };
}

export function layersPerBlock(cfg: ModelConfig): number[] {
  return Array.from({ length: cfg.blocks }, (_, i) => (i === 0 ? cfg.base : cfg.step));
}

export interface MsdnetOptions {
  numClasses: number;
  /** Per-channel normalisation applied inside `forward`, so attacks see pixels in [0,1]. */
  mean: number[];
  std: number[];
  seed: number;
}

export function buildMsdnetLayers(
  cfg: ModelConfig,
  numClasses: number,
  seed: number,
): { model: tf.LayersModel; fcLayers: tf.layers.Layer[]; summary: ModelSummary } {
  const f = new LayerFactory(seed);
  const gr = cfg.growthFactor;
  const bn = cfg.bottleneckFactor;
  const S = cfg.scales;
  const input = tf.input({ shape: [...IMAGE_SHAPE], name: 'image' });

  // First layer: one feature map per scale, each from the previous one by a strided convolution.
  let xs: SymbolicTensor[] = [];
  let prev = input;
  for (let s = 0; s < S; s++) {
    prev = f.convBnRelu(prev, cfg.channels * gr[s], 3, s === 0 ? 1 : 2);
    xs.push(prev);
  }

  const steps = layersPerBlock(cfg);
  const totalLayers = steps.reduce((a, b) => a + b, 0);
  let nIn = cfg.channels;
  let layer = 0;
  const outputs: SymbolicTensor[] = [];
  const fcLayers: tf.layers.Layer[] = [];
  const perExit: ModelSummary['perExit'] = [];
  // The factory's counters include every head built so far; an exit's path holds only its own.
  const heads = { macs: 0, params: 0 };

  for (let block = 0; block < cfg.blocks; block++) {
    for (let i = 0; i < steps[block]; i++) {
      layer += 1;
      const { inScales, outScales } = prunedScales(layer, totalLayers, S);
      const offset = S - outScales;
      const discard = inScales - outScales;
      // xs holds the inScales coarsest maps; `at` finds absolute scale s in it.
      const at = (scale: number) => xs[scale - (S - inScales)];
      const next: SymbolicTensor[] = [];
      for (let o = 0; o < outScales; o++) {
        const s = offset + o;
        const nOut = cfg.growthRate * gr[s];
        if (o === 0 && discard === 0) {
          next.push(f.concat([at(s), convBn(f, at(s), nOut, 1, cfg.bottleneck, bn[s])]));
        } else {
          const down = convBn(f, at(s - 1), Math.floor(nOut / 2), 2, cfg.bottleneck, bn[s - 1]);
          const same = convBn(f, at(s), Math.floor(nOut / 2), 1, cfg.bottleneck, bn[s]);
          next.push(f.concat([at(s), down, same]));
        }
      }
      xs = next;
      nIn += cfg.growthRate;
      if (discard > 0 && cfg.reduction > 0) {
        const reduced = Math.floor(cfg.reduction * nIn);
        xs = xs.map((x, o) => f.convBnRelu(x, reduced * gr[offset + o], 1, 1));
        nIn = reduced;
      }
    }
    if (cfg.exits === 'all' || block === cfg.blocks - 1) {
      const before = { macs: f.macs, params: f.params };
      const exit = outputs.length;
      const { logits, fc } = f.classifier(xs[xs.length - 1], cfg.classifierChannels, numClasses, exit);
      const head = { macs: f.macs - before.macs, params: f.params - before.params };
      perExit.push({ exit, macs: before.macs - heads.macs + head.macs, parameters: before.params - heads.params + head.params });
      heads.macs += head.macs;
      heads.params += head.params;
      outputs.push(logits);
      fcLayers.push(fc);
    }
  }

  const model = tf.model({ inputs: input, outputs, name: 'msdnet' });
  return {
    model,
    fcLayers,
    summary: { exits: outputs.length, parameters: model.countParams(), macs: f.macs, perExit },
  };
}

export function buildMsdnet(cfg: ModelConfig, opts: MsdnetOptions): MultiExitNet {
  const { model, fcLayers, summary } = buildMsdnetLayers(cfg, opts.numClasses, opts.seed);
  return wrapLayersModel(model, fcLayers.map((l) => l.name), opts, summary);
}

/** Wraps a layers model (freshly built or loaded from a checkpoint/export) as a MultiExitNet. */
export function wrapLayersModel(
  model: tf.LayersModel,
  fcLayerNames: string[],
  opts: Pick<MsdnetOptions, 'mean' | 'std' | 'numClasses'>,
  summary: ModelSummary,
): MultiExitNet {
  const mean = tf.keep(tf.tensor1d(opts.mean));
  const std = tf.keep(tf.tensor1d(opts.std));
  const fcKernels = fcLayerNames.map((name) => {
    const layer = model.getLayer(name);
    const kernel = layer.weights.find((w) => w.originalName.endsWith('/kernel'));
    if (!kernel) throw new Error(`exit layer ${name} has no kernel`);
    return kernel;
  });
  return {
    forward(x, training, options = {}) {
      const normalised = tf.div(tf.sub(x, mean), std);
      // tfjs-layers hands these call options to every layer's `call`; only the batch norm reads the second.
      const kwargs = options.twiceDifferentiable ? { training, [TWICE_DIFFERENTIABLE]: true } : { training };
      const out = model.apply(normalised, kwargs) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(out) ? out : [out]) as tf.Tensor2D[];
    },
    exitCount: fcLayerNames.length,
    numClasses: opts.numClasses,
    fcKernels,
    trainableVariables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    layersModel: model,
    summary,
    dispose() {
      tf.dispose([mean, std]);
      model.dispose();
    },
  };
}
