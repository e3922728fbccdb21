// SVHN cropped digits (train_32x32.mat, test_32x32.mat, extra_32x32.mat): X is a 32x32x3xN uint8
// array and y an Nx1 array of labels 1–10, where 10 stands for the digit 0.
import { IMAGE_VALUES } from '../../../src-shared/datasets';
import type { Split } from '../types';
import { matBytes, matNumbers, readMatVariables, type MatVariable } from './mat5';

export const SVHN_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export class SvhnFormatError extends Error {}

function need(vars: Map<string, MatVariable>, all: string[], name: string): MatVariable {
  const v = vars.get(name);
  if (!v) {
    throw new SvhnFormatError(
      `has no numeric variable '${name}' (variables found: ${all.length ? all.join(', ') : 'none'}); SVHN files hold X (32x32x3xN images) and y (labels)`,
    );
  }
  return v;
}

/** Reads one SVHN .mat file into a split (HWC images, labels 0–9). */
export async function readSvhnMat(file: string): Promise<Split> {
  const { variables, all } = await readMatVariables(file, ['X', 'y']);
  const X = need(variables, all, 'X');
  const y = need(variables, all, 'y');
  const [h, w, c, n = 1] = X.dims;
  if (h !== 32 || w !== 32 || c !== 3 || X.dims.length > 4) throw new SvhnFormatError(`variable X is ${X.dims.join('x')}; 32x32x3xN was expected`);
  const ys = matNumbers(y);
  if (ys.length !== n) throw new SvhnFormatError(`has ${n} images in X but ${ys.length} labels in y`);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = ys[i];
    if (!(Number.isInteger(v) && v >= 1 && v <= 10)) throw new SvhnFormatError(`label ${i + 1} is ${v}; SVHN labels are 1–10 (10 for the digit 0)`);
    labels[i] = v === 10 ? 0 : v;
  }
  // MATLAB is column-major: X(row, col, channel, n) sits at row + 32·col + 1024·channel + 3072·n.
  const src = matBytes(X);
  const images = new Uint8Array(n * IMAGE_VALUES);
  for (let i = 0; i < n; i++) {
    const base = i * IMAGE_VALUES;
    for (let ch = 0; ch < 3; ch++) {
      for (let col = 0; col < 32; col++) {
        const s = base + ch * 1024 + col * 32;
        for (let row = 0; row < 32; row++) images[base + (row * 32 + col) * 3 + ch] = src[s + row];
      }
    }
  }
  return { images, labels, count: n };
}
