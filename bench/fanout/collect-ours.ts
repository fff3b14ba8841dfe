// Bench child: our CoapClient sends GET /bench/hello to 224.0.1.187:PORT (pinned to lo) and
// collects until N responses arrived, REPS times. Prints one JSON line: the time of each
// collection, responses seen, and the process's peak RSS and heap.
// Usage: collect-ours.ts PORT N LEISURE_MS REPS
import { CoapClient } from '../../src/index.js';
import { collectLoop } from './measure.js';

const [port, n, leisureMs, reps] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: '127.0.0.1' });
try {
  const result = await collectLoop(reps, leisureMs, async () => {
    let count = 0;
    const responses = client.group({
      uri: `coap://224.0.1.187:${port}/bench/hello`,
      window: leisureMs + 3000,
      limit: n,
    });
    for await (const r of responses) if (r.code === 0x45) count++;
    return count;
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await client.close();
}
