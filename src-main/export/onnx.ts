// ONNX export of a tfjs-layers model, written layer by layer from the model's graph. Feature maps
// are NCHW inside the ONNX graph (what Conv and pooling expect); the graph's input stays NHWC like
// the tfjs model's, through one Transpose, so both exports take the same array. Only the layer
// kinds ExitLab's networks use are translated; anything else is a clear error naming the layer.
import * as tf from '@tensorflow/tfjs';
import { ProtoWriter } from './protobuf';

/** Opset 13: Conv, BatchNormalization, Gemm, pooling, Concat with the attributes used below. */
const ONNX_OPSET = 13;
const IR_VERSION = 7;
const FLOAT = 1;

type Attr =
  | { name: string; int: number }
  | { name: string; ints: number[] }
  | { name: string; float: number };

interface OnnxNode { op: string; inputs: string[]; outputs: string[]; name: string; attrs: Attr[] }
interface Initializer { name: string; dims: number[]; data: Float32Array }

/** A tensor of the graph being built: its name and rank (rank-4 tensors are NCHW). */
interface Value { name: string; rank: number }

export class OnnxExportError extends Error {}

class Graph {
  nodes: OnnxNode[] = [];
  initializers: Initializer[] = [];
  private counter = 0;

  node(op: string, inputs: string[], attrs: Attr[] = [], hint = op.toLowerCase()): string {
    const name = `${hint}_${++this.counter}`;
    this.nodes.push({ op, inputs, outputs: [name], name, attrs });
    return name;
  }

  constant(hint: string, dims: number[], data: Float32Array): string {
    const name = `${hint}_${++this.counter}`;
    this.initializers.push({ name, dims, data });
    return name;
  }
}

type LayerConfig = Record<string, unknown>;

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** TensorFlow's 'same' padding: the odd pixel goes at the end (bottom/right). */
function samePads(inH: number, inW: number, kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] {
  const one = (size: number, k: number, s: number, d: number) => {
    const out = Math.ceil(size / s);
    const total = Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = one(inH, kernel[0], strides[0], dilation[0]);
  const [left, right] = one(inW, kernel[1], strides[1], dilation[1]);
  return [top, left, bottom, right];
}

function weightData(layer: tf.layers.Layer, suffix: string): { data: Float32Array; shape: number[] } | null {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
  if (!w) return null;
  const t = w.read();
  return { data: t.dataSync() as Float32Array, shape: t.shape.slice() };
}

function requireWeight(layer: tf.layers.Layer, suffix: string): { data: Float32Array; shape: number[] } {
  const w = weightData(layer, suffix);
  if (!w) throw new OnnxExportError(`layer ${layer.name} has no ${suffix} weight`);
  return w;
}

function activation(g: Graph, x: string, name: unknown, layer: tf.layers.Layer, rank: number): string {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'softmax':
      return g.node('Softmax', [rank === 4 ? g.node('Transpose', [x], [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x], [{ name: 'axis', int: -1 }]);
    default:
      throw new OnnxExportError(`layer ${layer.name}: activation '${String(name)}' has no ONNX translation here`);
  }
}

/** Maps a channels-last axis of a rank-4 tensor to its NCHW position. */
function nchwAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

function translate(g: Graph, layer: tf.layers.Layer, inputs: Value[]): Value {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as LayerConfig;
  const x = inputs[0];
  // One input: a shape; several (Concatenate): a list of shapes. Only the first is needed.
  const inShape = layer.inboundNodes[0].inputShapes as Array<number | null> | Array<Array<number | null>>;
  const shape0 = (Array.isArray(inShape[0]) ? inShape[0] : inShape) as number[];
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    throw new OnnxExportError(`layer ${layer.name}: only channels-last layers are supported`);
  }

  switch (cls) {
    case 'Conv2D': {
      const kernel = requireWeight(layer, 'kernel');
      const [kh, kw, cin, cout] = kernel.shape;
      const w = tf.tidy(() => tf.transpose(tf.tensor(kernel.data, kernel.shape), [3, 2, 0, 1]).dataSync() as Float32Array);
      const strides = pair(cfg.strides);
      const dilation = pair(cfg.dilationRate ?? 1);
      const pads = cfg.padding === 'same' ? samePads(shape0[1], shape0[2], [kh, kw], strides, dilation) : [0, 0, 0, 0];
      const ins = [x.name, g.constant(`${layer.name}_W`, [cout, cin, kh, kw], w)];
      const bias = cfg.useBias ? weightData(layer, 'bias') : null;
      if (bias) ins.push(g.constant(`${layer.name}_B`, [cout], bias.data));
      const y = g.node('Conv', ins, [
        { name: 'kernel_shape', ints: [kh, kw] }, { name: 'strides', ints: strides }, { name: 'dilations', ints: dilation }, { name: 'pads', ints: pads },
      ], layer.name);
      return { name: activation(g, y, cfg.activation, layer, 4), rank: 4 };
    }
    case 'BatchNormalization': {
      const axis = cfg.axis as number;
      if (nchwAxis(axis, x.rank) !== 1) throw new OnnxExportError(`layer ${layer.name}: batch normalisation over axis ${axis} is not the channel axis`);
      const mean = requireWeight(layer, 'moving_mean');
      const variance = requireWeight(layer, 'moving_variance');
      const n = mean.data.length;
      const gamma = weightData(layer, 'gamma')?.data ?? new Float32Array(n).fill(1);
      const beta = weightData(layer, 'beta')?.data ?? new Float32Array(n);
      const y = g.node('BatchNormalization', [
        x.name, g.constant(`${layer.name}_scale`, [n], gamma), g.constant(`${layer.name}_B`, [n], beta),
        g.constant(`${layer.name}_mean`, [n], mean.data), g.constant(`${layer.name}_var`, [n], variance.data),
      ], [{ name: 'epsilon', float: cfg.epsilon as number }], layer.name);
      return { name: y, rank: x.rank };
    }
    case 'ReLU': {
      if (cfg.maxValue !== null && cfg.maxValue !== undefined) {
        const lo = g.constant(`${layer.name}_min`, [], Float32Array.of(0));
        const hi = g.constant(`${layer.name}_max`, [], Float32Array.of(cfg.maxValue as number));
        return { name: g.node('Clip', [x.name, lo, hi], [], layer.name), rank: x.rank };
      }
      return { name: g.node('Relu', [x.name], [], layer.name), rank: x.rank };
    }
    case 'Activation':
      return { name: activation(g, x.name, cfg.activation, layer, x.rank), rank: x.rank };
    case 'Concatenate':
      return { name: g.node('Concat', inputs.map((i) => i.name), [{ name: 'axis', int: nchwAxis(cfg.axis as number, x.rank) }], layer.name), rank: x.rank };
    case 'Add':
      return { name: inputs.slice(1).reduce((acc, v) => g.node('Add', [acc, v.name], [], layer.name), x.name), rank: x.rank };
    case 'AveragePooling2D':
    case 'MaxPooling2D': {
      const kernel = pair(cfg.poolSize);
      const strides = pair(cfg.strides ?? cfg.poolSize);
      const same = cfg.padding === 'same';
      const pads = same ? samePads(shape0[1], shape0[2], kernel, strides, [1, 1]) : [0, 0, 0, 0];
      const attrs: Attr[] = [{ name: 'kernel_shape', ints: kernel }, { name: 'strides', ints: strides }, { name: 'pads', ints: pads }];
      // TensorFlow averages over the pixels inside the image only.
      if (cls === 'AveragePooling2D') attrs.push({ name: 'count_include_pad', int: 0 });
      return { name: g.node(cls === 'AveragePooling2D' ? 'AveragePool' : 'MaxPool', [x.name], attrs, layer.name), rank: 4 };
    }
    case 'GlobalAveragePooling2D':
      return { name: g.node('Flatten', [g.node('GlobalAveragePool', [x.name])], [{ name: 'axis', int: 1 }], layer.name), rank: 2 };
    case 'Flatten': {
      // tfjs flattens channels-last: back to NHWC first so the features keep their order.
      const source = x.rank === 4 ? g.node('Transpose', [x.name], [{ name: 'perm', ints: [0, 2, 3, 1] }]) : x.name;
      return { name: g.node('Flatten', [source], [{ name: 'axis', int: 1 }], layer.name), rank: 2 };
    }
    case 'Dense': {
      if (x.rank !== 2) throw new OnnxExportError(`layer ${layer.name}: a dense layer on a rank-${x.rank} tensor is not supported`);
      const kernel = requireWeight(layer, 'kernel');
      const [inF, outF] = kernel.shape;
      const bias = cfg.useBias ? weightData(layer, 'bias')?.data ?? new Float32Array(outF) : new Float32Array(outF);
      const y = g.node('Gemm', [x.name, g.constant(`${layer.name}_W`, [inF, outF], kernel.data), g.constant(`${layer.name}_B`, [outF], bias)], [], layer.name);
      return { name: activation(g, y, cfg.activation, layer, 2), rank: 2 };
    }
    default:
      throw new OnnxExportError(`layer ${layer.name} (${cls}) has no ONNX translation in ExitLab's exporter`);
  }
}

export interface OnnxExportOptions {
  /** One name per model output, in order. */
  outputNames: string[];
  /** Key/value metadata stored in the ONNX file itself. */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

/** Serialises a single-input tfjs-layers model (channels-last) to an ONNX file's bytes. */
export function layersModelToOnnx(model: tf.LayersModel, options: OnnxExportOptions): Buffer {
  if (model.inputs.length !== 1) throw new OnnxExportError(`the model has ${model.inputs.length} inputs; the exporter handles one`);
  if (options.outputNames.length !== model.outputs.length) {
    throw new OnnxExportError(`${model.outputs.length} outputs but ${options.outputNames.length} output names`);
  }
  const g = new Graph();
  const inputLayer = model.inputLayers[0];
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4) {
    throw new OnnxExportError(`the exporter expects an image input [batch, height, width, channels], got [${inputShape.join(', ')}]`);
  }
  const inputName = inputLayer.name;
  const values = new Map<string, Value>();
  values.set(inputLayer.name, { name: g.node('Transpose', [inputName], [{ name: 'perm', ints: [0, 3, 1, 2] }], 'to_nchw'), rank: 4 });

  for (const layer of model.layers) {
    if (layer === inputLayer) continue;
    // A layer applied twice (a shared layer) would need per-node names; ExitLab's models have none.
    if (layer.inboundNodes.length !== 1) {
      throw new OnnxExportError(`layer ${layer.name} is applied ${layer.inboundNodes.length} times; shared layers are not supported`);
    }
    const node = layer.inboundNodes[0];
    const inputs = node.inboundLayers.map((l, i) => {
      const v = values.get(l.name);
      if (!v || node.tensorIndices[i] !== 0) throw new OnnxExportError(`layer ${layer.name}: input from ${l.name} is not available`);
      return v;
    });
    values.set(layer.name, translate(g, layer, inputs));
  }

  const outputs = model.outputs.map((out, i) => {
    const layerName = out.sourceLayer.name;
    const v = values.get(layerName);
    if (!v) throw new OnnxExportError(`output ${i} (${layerName}) was not produced`);
    g.nodes.push({ op: 'Identity', inputs: [v.name], outputs: [options.outputNames[i]], name: `output_${i}`, attrs: [] });
    return { name: options.outputNames[i], shape: out.shape };
  });

  const valueInfo = (w: ProtoWriter, name: string, shape: Array<number | null>) => {
    w.string(1, name).message(2, (type) => type.message(1, (tensor) => {
      tensor.int(1, FLOAT).message(2, (s) => {
        for (const d of shape) s.message(1, (dim) => (d === null || d < 0 ? dim.string(2, 'batch') : dim.int(1, d)));
      });
    }));
  };

  const model_ = new ProtoWriter();
  model_.int(1, IR_VERSION).string(2, 'exitlab').string(3, options.producerVersion ?? '').message(8, (o) => o.string(1, '').int(2, ONNX_OPSET));
  model_.message(7, (graph) => {
    for (const n of g.nodes) {
      graph.message(1, (w) => {
        for (const i of n.inputs) w.string(1, i);
        for (const o of n.outputs) w.string(2, o);
        w.string(3, n.name).string(4, n.op);
        for (const a of n.attrs) {
          w.message(5, (attr) => {
            attr.string(1, a.name);
            if ('int' in a) attr.int(3, a.int).int(20, 2);
            else if ('float' in a) attr.float(2, a.float).int(20, 1);
            else attr.packedInts(8, a.ints).int(20, 7);
          });
        }
      });
    }
    graph.string(2, model.name || 'model');
    for (const t of g.initializers) {
      graph.message(5, (w) => {
        if (t.dims.length) w.packedInts(1, t.dims);
        w.int(2, FLOAT).string(8, t.name).bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    graph.message(11, (w) => valueInfo(w, inputName, inputShape));
    for (const o of outputs) graph.message(12, (w) => valueInfo(w, o.name, o.shape));
  });
  for (const [key, value] of Object.entries(options.metadata ?? {})) model_.message(14, (w) => w.string(1, key).string(2, value));
  return model_.finish();
}
