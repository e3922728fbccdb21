// What our WGSL kernels share: a flat program (one invocation per output element) run through
// tfjs-backend-webgpu's own program runner, so its buffer pool, uniforms and command batching
// apply as to its built-in kernels. tfjs declares the program type with the WebGPU DOM typings;
// the fields used here are restated so that the rest of the engine needs no DOM library.
import * as tf from '@tensorflow/tfjs';

interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  getUserCode: () => string;
}

/** The part of tfjs's WebGPUBackend our kernels call. */
export interface WebGpuKernelBackend extends tf.KernelBackend {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms: Array<{ type: string; data: number[] }>): tf.TensorInfo;
}

interface WebGpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroupSize: [number, number, number]): [number, number, number];
}

const WORKGROUP: [number, number, number] = [64, 1, 1];

/**
 * A convolution's geometry as WGSL constants, not uniforms, so that the shader compiler sees its
 * loop bounds and divisors (our timings of the two, on a loaded machine, were too noisy to rank
 * them). Each shape then compiles its own pipeline.
 */
export function convConstants(info: tf.backend_util.Conv2DInfo): Record<string, number> {
  return {
    BATCH: info.batchSize, IN_H: info.inHeight, IN_W: info.inWidth, IN_C: info.inChannels,
    OUT_H: info.outHeight, OUT_W: info.outWidth, OUT_C: info.outChannels,
    K_H: info.filterHeight, K_W: info.filterWidth, STRIDE_H: info.strideHeight, STRIDE_W: info.strideWidth,
    DIL_H: info.dilationHeight, DIL_W: info.dilationWidth, PAD_TOP: info.padInfo.top, PAD_LEFT: info.padInfo.left,
  };
}

/**
 * WGSL that splits `index`, an element of an NHWC tensor whose height, width and channels are the
 * constants `h`, `w`, `c`, into its coordinates, declared as the four names given.
 */
export function nhwcCoords(names: [b: string, y: string, x: string, c: string], [h, w, c]: [string, string, string]): string {
  const [bn, yn, xn, cn] = names;
  return `
  let ${cn} = index % ${c};
  var p = index / ${c};
  let ${xn} = p % ${w};
  p = p / ${w};
  let ${yn} = p % ${h};
  let ${bn} = p / ${h};`;
}

/**
 * Runs `body` (WGSL statements that compute `index`'s output element, reading the inputs as flat
 * arrays named by `inputs`, and calling setOutputAtIndex) once per element of `outputShape`, with
 * `constants` declared as i32 constants before it.
 */
export function runFlatProgram(
  backend: tf.KernelBackend,
  o: { key: string; inputs: Array<[name: string, tensor: tf.TensorInfo]>; outputShape: number[]; constants: Record<string, number>; body: string },
): tf.TensorInfo {
  const entries = Object.entries(o.constants);
  const { webgpu_util: util } = require('@tensorflow/tfjs-backend-webgpu') as { webgpu_util: WebGpuUtil };
  const dispatchLayout = util.flatDispatchLayout(o.outputShape);
  const program: WebGpuProgram = {
    variableNames: o.inputs.map(([name]) => name),
    outputShape: o.outputShape,
    shaderKey: `${o.key}_${entries.map(([, v]) => v).join('_')}`,
    dispatchLayout,
    dispatch: util.computeDispatch(dispatchLayout, o.outputShape, WORKGROUP),
    workgroupSize: WORKGROUP,
    size: true,
    getUserCode: () => `
      ${entries.map(([name, v]) => `const ${name} : i32 = ${v};`).join('\n')}
      fn main(index : i32) {
        if (index >= uniforms.size) { return; }
        ${o.body}
      }`,
  };
  return (backend as WebGpuKernelBackend).runWebGPUProgram(program, o.inputs.map(([, t]) => t), 'float32', []);
}
