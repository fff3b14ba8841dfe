// Shared by the fan-out collectors: runs a collection REPS times, Leisure apart (so each request
// starts a fresh Leisure period on every node), timing each and sampling memory meanwhile. Memory
// is reported as growth over a baseline taken after a GC (children run with --expose-gc), so the
// cost of loading the code (tsx compiling the harness) does not count.

export interface CollectResult {
  /** ms per repetition. */
  readonly times: number[];
  /** Responses per repetition. */
  readonly counts: number[];
  /** Highest heapUsed seen minus heapUsed at the baseline, bytes. */
  readonly heapGrowth: number;
  /** Highest RSS seen minus RSS at the baseline, bytes. */
  readonly rssGrowth: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function collectLoop(
  reps: number,
  leisureMs: number,
  collect: () => Promise<number>,
): Promise<CollectResult> {
  const times: number[] = [];
  const counts: number[] = [];
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakRss = base.rss;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const sampler = setInterval(sample, 2);
  try {
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      counts.push(await collect());
      times.push(performance.now() - t0);
      sample();
      await sleep(leisureMs + 100);
    }
  } finally {
    clearInterval(sampler);
  }
  return { times, counts, heapGrowth: peakHeap - base.heapUsed, rssGrowth: peakRss - base.rss };
}
