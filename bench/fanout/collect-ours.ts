// Bench child: our CoapClient sends GET /bench/hello to 224.0.1.187:PORT (pinned to lo) and
// collects until N responses arrived, REPS times. Prints one JSON line: the time of each
// collection, responses seen, and the process's peak RSS and heap.
// Usage: collect-ours.ts PORT N LEISURE_MS REPS
import { CoapClient } from '../../src/index.js';
import { collectLoop } from './measure.js';
import { collectOurs } from './ours.js';

const [port, n, leisureMs, reps] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }], iface: '127.0.0.1' });
try {
  const result = await collectLoop(reps, leisureMs, () => collectOurs(client, port, n, leisureMs));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await client.close();
}
