// Shared by the fan-out collectors: runs one unmeasured collection (so that loading and compiling
// the code on its first use does not count), then REPS collections, Leisure apart (so each
// request starts a fresh Leisure period on every node), timing each and sampling memory
// meanwhile. Before each measured collection a GC (children run with --expose-gc) takes the
// baseline, so each figure is one collection of N responses: what it keeps plus the garbage it
// made that no GC took yet, and not the garbage of the collections before it.

export interface CollectResult {
  /** ms per repetition. */
  readonly times: number[];
  /** Responses per repetition. */
  readonly counts: number[];
  /** Highest heapUsed seen in a collection minus heapUsed at its baseline (the most of any), bytes. */
  readonly heapGrowth: number;
  /** Highest RSS seen in a collection minus RSS at its baseline (the most of any), bytes. */
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
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  await collect();
  await sleep(leisureMs + 100);
  let heapGrowth = 0;
  let rssGrowth = 0;
  let base = process.memoryUsage();
  const sample = () => {
    const m = process.memoryUsage();
    heapGrowth = Math.max(heapGrowth, m.heapUsed - base.heapUsed);
    rssGrowth = Math.max(rssGrowth, m.rss - base.rss);
  };
  const sampler = setInterval(sample, 2);
  try {
    for (let i = 0; i < reps; i++) {
      gc();
      base = process.memoryUsage();
      const t0 = performance.now();
      counts.push(await collect());
      times.push(performance.now() - t0);
      sample();
      await sleep(leisureMs + 100);
    }
  } finally {
    clearInterval(sampler);
  }
  return { times, counts, heapGrowth, rssGrowth };
}
