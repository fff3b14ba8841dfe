// Our server's own work per request, without the kernel: a CoapServer over a transport that hands
// it pre-encoded GET /bench/hello datagrams (16 client ports, a fresh Message ID and token each,
// so duplicate detection never answers from its cache) and takes each response without sending
// it. Reports CPU time and heap bytes allocated per request: the bytes do not depend on the
// machine's speed or load, so they can guard against regressions where a timing cannot.
import type { CoapServer as CoapServerType } from '../../src/index.js';
import type { Datagram, LocalSocket, Transport } from '../../src/transport/types.js';
import { CODE_GET, CON, NON, requestBytes } from '../load/wire.js';

/** The part of the library this measurement uses (so two builds can be compared in one process). */
export interface ServerLib {
  readonly CoapServer: typeof CoapServerType;
}

export interface PipelineFigures {
  /** CPU time (user + system) per request, µs. */
  readonly cpuUs: number;
  /** Heap bytes allocated per request (least over rounds, see `bytesPer`). */
  readonly bytes: number;
  /** Responses sent per request fed (1 when every request was answered). */
  readonly answered: number;
}

const PORTS = 16;
const LOCAL: LocalSocket = { address: '127.0.0.1', port: 5683, family: 4 };

/** A transport that delivers what `feed` is given and counts what the server sends. */
class FeedTransport implements Transport {
  readonly sockets = [LOCAL];
  sent = 0;
  bytesSent = 0;
  private receiver: (d: Datagram) => void = () => {};
  setReceiver(r: (d: Datagram) => void): void {
    this.receiver = r;
  }
  send(data: Buffer): void {
    this.sent++;
    this.bytesSent += data.length;
  }
  feed(d: Datagram): void {
    this.receiver(d);
  }
  async join(): Promise<void> {}
  async leave(): Promise<void> {}
  memberships() {
    return [];
  }
  async close(): Promise<void> {}
}

/** `count` datagrams: GET /bench/hello from 16 ports, Message ID and 4-byte token numbering them. */
function datagrams(confirmable: boolean, count: number): Datagram[] {
  const remotes = Array.from({ length: PORTS }, (_, i) => ({ address: '127.0.0.1', port: 40000 + i }));
  return Array.from({ length: count }, (_, g) => {
    const token = Buffer.alloc(4);
    token.writeUInt32BE(g);
    const data = requestBytes({
      type: confirmable ? CON : NON,
      code: CODE_GET,
      messageId: Math.floor(g / PORTS) & 0xffff,
      token,
      path: ['bench', 'hello'],
    });
    return { data, remote: remotes[g % PORTS]!, local: LOCAL, multicast: false, group: undefined };
  });
}

/**
 * Heap bytes allocated per call of `run(i)`, the least over rounds of `n` calls. With a `gc`
 * (node --expose-gc) every round starts from an empty young generation, so no collection falls
 * inside one; anything else that allocates meanwhile (a compilation) can only add to a round.
 */
export function bytesPer(
  run: (i: number) => void,
  n: number,
  rounds: number,
  gc: () => void,
  heapUsed: () => number,
): number {
  let least = Number.POSITIVE_INFINITY;
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    gc();
    const before = heapUsed();
    for (let k = 0; k < n; k++) run(i++);
    least = Math.min(least, (heapUsed() - before) / n);
  }
  return least;
}

/** Measures one server build: CPU per request over `cpuRequests`, then bytes per request. */
export async function measureServerPipeline(
  lib: ServerLib,
  confirmable: boolean,
  cpuRequests: number,
  gc: (() => void) | undefined,
  heapUsed: () => number,
): Promise<PipelineFigures> {
  const transport = new FeedTransport();
  const server = new lib.CoapServer({ transport, joinAllCoapNodes: false, discovery: false });
  server.get('/bench/hello', () => ({ payload: 'hello world' }));
  await server.listen();
  // 65536 distinct requests per port: the Message IDs wrap only after the whole set.
  const all = datagrams(confirmable, 1 << 16);
  const feed = (i: number) => transport.feed(all[i & 0xffff]!);
  try {
    // Warm-up, so the optimised code is measured.
    for (let i = 0; i < 30_000; i++) feed(i);
    const sentBefore = transport.sent;
    const c0 = process.cpuUsage();
    for (let i = 0; i < cpuRequests; i++) feed(30_000 + i);
    const c1 = process.cpuUsage(c0);
    const answered = (transport.sent - sentBefore) / cpuRequests;
    // On from where the timed requests ended: the first ones fed are still in the duplicate
    // table (the last 20 000 are), and a duplicate costs less than a new request.
    const next = 30_000 + cpuRequests;
    const bytes = gc === undefined ? Number.NaN : bytesPer((i) => feed(next + i), 200, 20, gc, heapUsed);
    return { cpuUs: (c1.user + c1.system) / cpuRequests, bytes, answered };
  } finally {
    await server.close();
  }
}
