// Bench child: N CoapServers in one process, node i bound to its own loopback address
// (127.0.10.1, 127.0.10.2, ...) on a shared random port, each with its own socket for the group
// All CoAP Nodes (224.0.1.187) on that port, joined on 127.0.0.1 (lo). GET /bench/hello accepts
// multicast. Usage: group-nodes.ts N LEISURE_SECONDS. Prints "ready <port>".
import { CoapServer } from '../../src/index.js';
import { serveUntilStopped } from './lifecycle.js';

const n = Number(process.argv[2] ?? 10);
const leisure = Number(process.argv[3] ?? 0.01);

/** The unicast address of node i: 127.0.10.1 onwards, 250 per /24. */
function nodeAddress(i: number): string {
  return `127.0.${10 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

async function startAll(port: number): Promise<CoapServer[]> {
  const servers: CoapServer[] = [];
  try {
    for (let i = 0; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, (_, k) => {
        const s = new CoapServer({
          bind: [nodeAddress(i + k)],
          port,
          iface: '127.0.0.1',
          leisure,
          discovery: false,
        });
        s.get('/bench/hello', () => ({ payload: 'hello world' }), { multicast: true });
        servers.push(s);
        return s.listen();
      });
      await Promise.all(batch);
    }
    return servers;
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
}

let servers: CoapServer[] | undefined;
let port = 0;
let lastError: unknown;
// Bounded: ten random ports at most.
for (let attempt = 0; attempt < 10 && servers === undefined; attempt++) {
  port = 20000 + Math.floor(Math.random() * 40000);
  try {
    servers = await startAll(port);
  } catch (err) {
    lastError = err;
  }
}
if (servers === undefined) {
  process.stderr.write(`cannot start ${n} nodes: ${(lastError as Error).message}\n`);
  process.exit(1);
}
const all = servers;
serveUntilStopped(port, async () => {
  await Promise.all(all.map((s) => s.close()));
});
