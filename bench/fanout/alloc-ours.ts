// Child of bench/fanout/alloc-ab.ts: our CoapClient collects N responses from the nodes, REPS
// times after one unmeasured collection, and prints per collection the bytes allocated per
// response (heapUsed after it minus heapUsed after a GC before it) and the bytes kept per
// response (the same after another GC). The parent runs it with a fixed 64 MB young generation,
// so that no scavenge happens during a collection and the first figure counts every allocation.
// Usage: alloc-ours.ts PORT N LEISURE_MS REPS (run with --expose-gc)
import { CoapClient } from '../../src/index.js';
import { collectOurs } from './ours.js';

const [port, n, leisureMs, reps] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('alloc-ours.ts needs --expose-gc');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: '127.0.0.1' });
const allocated: number[] = [];
const kept: number[] = [];
const counts: number[] = [];
try {
  for (let i = 0; i <= reps; i++) {
    gc();
    const base = process.memoryUsage().heapUsed;
    const count = await collectOurs(client, port, n, leisureMs);
    const used = process.memoryUsage().heapUsed - base;
    gc();
    if (i > 0 && count > 0) {
      allocated.push(used / count);
      kept.push((process.memoryUsage().heapUsed - base) / count);
      counts.push(count);
    }
    await sleep(leisureMs + 100);
  }
  process.stdout.write(`${JSON.stringify({ allocated, kept, counts })}\n`);
} finally {
  await client.close();
}
