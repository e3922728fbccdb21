// Step timing shared by every throughput figure of the bench.

/** One warm-up call, then `steps` timed ones; the median, since single steps on a shared machine now and then take a third longer. */
export async function timeSteps(step: () => Promise<unknown>, steps: number): Promise<{ msPerStep: number; stepMs: number[] }> {
  await step();
  const stepMs: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    await step();
    stepMs.push(performance.now() - t0);
  }
  const sorted = [...stepMs].sort((a, b) => a - b);
  return { msPerStep: sorted[Math.floor((sorted.length - 1) / 2)], stepMs };
}
