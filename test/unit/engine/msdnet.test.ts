import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema } from '../../../src-shared/config';
import { buildMsdnetLayers, prunedScales, layersPerBlock } from '../../../src-main/engine/model/msdnet';
import { TINY_MODEL, tinyNet, useCpu } from '../../helpers/tiny-net';

describe('MSDNet', () => {
  beforeAll(useCpu);

  it('prunes scales like the reference implementation (16 layers, 3 scales)', () => {
    const cfg = ModelConfigSchema.parse({});
    expect(layersPerBlock(cfg)).toEqual([4, 2, 2, 2, 2, 2, 2]);
    const out = Array.from({ length: 16 }, (_, i) => prunedScales(i + 1, 16, 3));
    expect(out.map((s) => s.outScales)).toEqual([3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1]);
    // Scales are discarded (with a transition) exactly at layers 7 and 13.
    expect(out.map((s, i) => (s.inScales > s.outScales ? i + 1 : 0)).filter(Boolean)).toEqual([7, 13]);
  });

  it('builds the reference CIFAR network: 7 exits, costs growing with depth', () => {
    const { model, summary } = buildMsdnetLayers(ModelConfigSchema.parse({}), 10, 0);
    expect(summary.exits).toBe(7);
    expect(model.outputs.map((o) => o.shape)).toEqual(new Array(7).fill([null, 10]));
    const macs = summary.perExit.map((e) => e.macs);
    for (let i = 1; i < macs.length; i++) expect(macs[i]).toBeGreaterThan(macs[i - 1]);
    // Every exit's path is part of the whole network.
    expect(summary.macs).toBeGreaterThan(macs[6]);
    expect(summary.parameters).toBe(model.countParams());
    model.dispose();
  });

  it('counts the MACs of a hand-checkable single-scale network', () => {
    const cfg = ModelConfigSchema.parse({
      blocks: 1, base: 1, channels: 2, growthRate: 2, scales: 1, growthFactor: [1], bottleneckFactor: [1], bottleneck: false, classifierChannels: 4,
      exits: 'last',
    });
    const { summary, model } = buildMsdnetLayers(cfg, 3, 0);
    const first = 32 * 32 * 9 * 3 * 2; // 3 → 2 channels, 3x3
    const layer = 32 * 32 * 9 * 2 * 2; // 2 → growth 2
    const head = 16 * 16 * 9 * 4 * 4 + 8 * 8 * 9 * 4 * 4 + 4 * 3; // two strided 3x3 convs then FC
    // The first head conv sees the 4 concatenated channels: 16*16*9*4*4 counts cin=4.
    expect(summary.perExit[0].macs).toBe(first + layer + head);
    model.dispose();
  });

  it('forward returns one logits tensor per exit, and a single exit for exits=last', () => {
    const net = tinyNet();
    const logits = tf.tidy(() => net.forward(tf.zeros([2, 32, 32, 3]) as tf.Tensor4D, false));
    expect(logits.map((l) => l.shape)).toEqual([[2, 3], [2, 3], [2, 3]]);
    expect(net.fcKernels).toHaveLength(3);
    tf.dispose(logits);
    const single = tinyNet(1, { exits: 'last' });
    expect(single.exitCount).toBe(1);
    expect(TINY_MODEL.blocks).toBe(3);
  });

  it('computes no filter gradient when only the input gradient is asked for (attacks)', async () => {
    const net = tinyNet();
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const loss = (input: tf.Tensor) => tf.addN(net.forward(input as tf.Tensor4D, true).map((l) => tf.sum(l)));
    let dx: tf.Tensor | null = null;
    const info = await tf.profile(() => {
      dx = tf.grad(loss)(x);
    });
    const kernels = new Set(info.kernels.map((k) => k.name));
    expect(kernels.has('Conv2DBackpropInput')).toBe(true);
    expect(kernels.has('Conv2DBackpropFilter')).toBe(false);
    // The weight gradient still reaches every convolution kernel.
    const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, net.trainableVariables);
    const convKernels = net.trainableVariables.filter((v) => /conv_\d+\/kernel/.test(v.name));
    expect(convKernels.length).toBeGreaterThan(0);
    for (const v of convKernels) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, dx!, Object.values(grads)]);
  });

  it('is deterministic for a seed', async () => {
    const a = tinyNet(5);
    const b = tinyNet(5);
    const c = tinyNet(6);
    const w = (n: ReturnType<typeof tinyNet>) => n.layersModel.weights[0].read().dataSync()[3];
    expect(w(a)).toBe(w(b));
    expect(w(a)).not.toBe(w(c));
  });
});
