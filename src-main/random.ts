// The one seeded generator and the one seed mixer. Everything random in a result (synthetic images,
// shuffles and augmentations, network initialisation, the training steps' random draws, the attacks'
// restarts, windows and signs) comes from a run's or an evaluation's seed through these two, never
// from Math.random, so it is reproducible for a seed on every backend and after a resume.

/**
 * Mixes several integers into one 32-bit seed (order matters), so that the streams of, say,
 * (seed, epoch, batch) and (seed, epoch, batch + 1) are unrelated. Any part may be negative or
 * beyond 2^32 (it is taken modulo 2^32). The result is an integer in [0, 2^32): a valid seed for
 * Rng and for tfjs's random ops and initialisers (tfjs turns a seed into a string).
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A small seeded generator (sfc32): fast, 128 bits of state, and the same numbers everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = 0x243f6a88;
    this.b = mixSeed(seed, 1);
    this.c = mixSeed(seed, 2);
    this.d = 1;
    // Warm up so that nearby seeds give unrelated streams.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** -1 or +1, each with probability ½. */
  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }

  /** A seed for a tfjs random op or a nested generator, in [0, 2·10^9). */
  seed(): number {
    return Math.floor(this.next() * 2_000_000_000);
  }

  /** Standard normal (Marsaglia polar method). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }
}
