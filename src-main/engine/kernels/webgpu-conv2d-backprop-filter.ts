// Conv2DBackpropFilter (dW) for webgpu. tfjs's kernel gives each filter element one invocation
// that sums over every batch row and pixel: a 3×3×8×8 filter keeps 576 invocations busy, far too
// few for a GPU. Here the sum is split over chunks of (image, output row) pairs, one invocation
// per chunk and filter element, and a second pass adds the chunks' partial sums. The second pass
// is a plain loop, not tfjs's Sum, whose workgroup reduction SwiftShader runs slowly.
import * as tf from '@tensorflow/tfjs';
import { attrsOf, type KernelArgs, type KernelOverride } from './override';
import { directConvInfo } from './webgpu-conv2d';
import { convConstants, runFlatProgram } from './webgpu-program';

/** Invocations to aim for: enough to fill a discrete GPU's lanes several times over. */
const TARGET_INVOCATIONS = 32_768;

/** How `rows` (batch × output height) are divided so that chunks × filterSize nears the target. */
export function filterGradChunks(rows: number, filterSize: number, target = TARGET_INVOCATIONS): { chunks: number; rowsPerChunk: number } {
  const wanted = Math.max(1, Math.min(rows, Math.ceil(target / filterSize)));
  const rowsPerChunk = Math.ceil(rows / wanted);
  return { chunks: Math.ceil(rows / rowsPerChunk), rowsPerChunk };
}

const BODY = `
  let f = index % FILTER_SIZE;
  let chunk = index / FILTER_SIZE;
  let co = f % OUT_C;
  var q = f / OUT_C;
  let ci = q % IN_C;
  q = q / IN_C;
  let kx = q % K_W;
  let ky = q / K_W;
  let start = chunk * ROWS_PER_CHUNK;
  let end = min(start + ROWS_PER_CHUNK, BATCH * OUT_H);
  var acc = 0.0;
  for (var r = start; r < end; r++) {
    let b = r / OUT_H;
    let oy = r % OUT_H;
    let iy = oy * STRIDE_H + ky * DIL_H - PAD_TOP;
    if (iy < 0 || iy >= IN_H) { continue; }
    let xRow = (b * IN_H + iy) * IN_W;
    let dyRow = r * OUT_W;
    for (var ox = 0; ox < OUT_W; ox++) {
      let ix = ox * STRIDE_W + kx * DIL_W - PAD_LEFT;
      if (ix < 0 || ix >= IN_W) { continue; }
      acc += x[(xRow + ix) * IN_C + ci] * dy[(dyRow + ox) * OUT_C + co];
    }
  }
  setOutputAtIndex(index, acc);`;

const ADD_CHUNKS = `
  var acc = 0.0;
  for (var c = 0; c < CHUNKS; c++) {
    acc += partial[c * FILTER_SIZE + index];
  }
  setOutputAtIndex(index, acc);`;

export const webgpuConv2DBackpropFilterKernel: KernelOverride = {
  kernelName: tf.Conv2DBackpropFilter,
  make: (builtin) => (args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = attrsOf<tf.Conv2DBackpropFilterAttrs>(args.attrs);
    const info = directConvInfo(x.shape, attrs.filterShape, attrs);
    if (!info) return builtin(args);
    const filterSize = attrs.filterShape.reduce((a, b) => a * b, 1);
    const { chunks, rowsPerChunk } = filterGradChunks(info.batchSize * info.outHeight, filterSize);
    // One chunk is the whole sum: its [1, size] output is the filter in the same element order.
    const partial = runFlatProgram(args.backend, {
      key: 'exitlab_conv2d_backprop_filter_chunked',
      inputs: [['x', x], ['dy', dy]],
      outputShape: chunks === 1 ? attrs.filterShape : [chunks, filterSize],
      constants: { ...convConstants(info), FILTER_SIZE: filterSize, ROWS_PER_CHUNK: rowsPerChunk }, body: BODY,
    });
    if (chunks === 1) return partial;
    const dw = runFlatProgram(args.backend, {
      key: 'exitlab_add_chunks',
      inputs: [['partial', partial]],
      outputShape: attrs.filterShape,
      constants: { CHUNKS: chunks, FILTER_SIZE: filterSize },
      body: ADD_CHUNKS,
    });
    args.backend.disposeData(partial.dataId);
    return dw;
  },
};
