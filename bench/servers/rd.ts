// Bench child: our resource directory (RFC 9176) on the address in argv[2], with its
// registrations in memory (argv[3] = "memory") or in the state directory argv[3] (snapshot and
// journal, each change flushed before it is answered). Prints "ready <port>"; on "mem" it runs a
// full GC first (node --expose-gc), so heap figures are what the registrations hold.
import { attachResourceDirectory, CoapServer } from '../../src/index.js';

const host = process.argv[2] ?? '127.0.0.31';
const state = process.argv[3] ?? 'memory';
const server = new CoapServer({ bind: [host], port: 0, joinAllCoapNodes: false });
await server.listen();
const rd = await attachResourceDirectory(server, {
  ...(state !== 'memory' ? { store: state } : {}),
  joinAllRds: false,
  limits: { maxRegistrations: 1_000_000, maxLookupsInFlight: 64 },
});
const gc = (globalThis as { gc?: () => void }).gc;
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  void rd
    .close()
    .then(() => server.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  if (!chunk.includes('mem')) return;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const stats = rd.stats();
  process.stdout.write(
    `mem ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, peakRss: process.resourceUsage().maxRSS * 1024, gc: gc !== undefined, ...stats })}\n`,
  );
});
process.stdin.on('end', stop);
process.stdout.write(`ready ${server.endpoints[0]!.port}\n`);
