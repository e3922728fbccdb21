// A small seeded generator (mulberry32) for the attacks' own random choices (Square's windows and
// signs, seeds of restarts), so an evaluation is reproducible for a seed on every backend.
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  sign(): number {
    return this.next() < 0.5 ? -1 : 1;
  }

  /** A seed for tfjs random ops (kept well inside 2^31: tfjs passes seeds through float math). */
  seed(): number {
    return Math.floor(this.next() * 2_000_000_000);
  }
}
