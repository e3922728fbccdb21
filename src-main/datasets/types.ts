// In-memory form of one split of a data set: what the input pipeline reads.
export interface Split {
  /** N images, each 32x32x3 uint8, row-major HWC (channels last, as tfjs convolutions expect). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** One batch handed to the engine: pixels in [0,1], NHWC. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  size: number;
}
