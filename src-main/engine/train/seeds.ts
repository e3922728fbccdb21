// Seeds derived from (run seed, epoch, batch) so any step can be replayed after a resume without
// saving generator state.
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  }
  // tfjs seeds are passed through float math: keep them well inside 2^31.
  return h % 2_147_483_647;
}
