// The neutral load client: raw dgram sockets, pre-encoded requests, N requests in flight, each
// answer immediately replaced by the next request. Measures responses per second and p50/p99
// latency over a fixed time after a warm-up, and, given the server's pid, the server's CPU time
// per response. A request unanswered for `timeoutMs` counts as lost
// and its slot moves on (no retransmission: the figure is the server's, not a retry policy's).
import dgram from 'node:dgram';
import { processCpuMs } from './cpu.js';
import { requestPool, SOCKETS, TOTAL } from './pool.js';
import { percentile } from './stats.js';
import { CODE_CONTENT } from './wire.js';

export interface LoadSpec {
  readonly host: string;
  readonly port: number;
  readonly confirmable: boolean;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly path?: readonly string[];
  readonly timeoutMs?: number;
  /** The server's process id, to measure its CPU time per request. */
  readonly serverPid?: number;
}

export interface LoadResult {
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Good responses counted in the measured window. */
  readonly completed: number;
  readonly lost: number;
  /** Responses with another code than 2.05. */
  readonly errors: number;
  /** True when the request pool ran out before the time was up. */
  readonly exhausted: boolean;
  /** Server CPU time (user + system) per good response in the measured window, µs. */
  readonly serverCpuUs: number | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function openSocket(host: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
  try {
    s.setRecvBufferSize(1 << 21);
  } catch {
    // rmem_max caps it; the default works too.
  }
  await new Promise<void>((r) => s.connect(port, host, r));
  return s;
}

/** Runs one load scenario against `host:port` and closes everything it opened. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const pool = requestPool(spec.confirmable, spec.path ?? ['bench', 'hello']);
  const timeoutMs = spec.timeoutMs ?? 500;
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => openSocket(spec.host, spec.port)));
  const sentAt = new Float64Array(TOTAL);
  const slotOf = new Uint16Array(TOTAL);
  const slotReq = new Int32Array(spec.inFlight).fill(-1);
  const latencies = new Float64Array(TOTAL);
  let next = 0;
  let nLat = 0;
  let lost = 0;
  let errors = 0;
  let measuring = false;
  let stopping = false;

  const send = (slot: number) => {
    if (stopping || next >= TOTAL) {
      slotReq[slot] = -1;
      return;
    }
    const g = next++;
    sentAt[g] = performance.now();
    slotOf[g] = slot;
    slotReq[slot] = g;
    sockets[g % SOCKETS]!.send(pool.get(g));
  };
  const onMessage = (b: Buffer) => {
    // Empty ACKs (separate responses, or node-coap's ACK of a NON) carry no token: skip them.
    if (b.length < 8 || b[1] === 0 || (b[0]! & 15) !== 4) return;
    const g = b.readUInt32BE(4);
    if (g >= next) return;
    const t0 = sentAt[g]!;
    if (!(t0 > 0)) return; // late or duplicated
    sentAt[g] = 0;
    if (measuring) {
      if (b[1] === CODE_CONTENT) latencies[nLat++] = performance.now() - t0;
      else errors++;
    }
    send(slotOf[g]!);
  };
  for (const s of sockets) s.on('message', onMessage);
  const sweep = setInterval(() => {
    const now = performance.now();
    for (let slot = 0; slot < spec.inFlight; slot++) {
      const g = slotReq[slot]!;
      if (g >= 0 && sentAt[g]! > 0 && now - sentAt[g]! > timeoutMs) {
        sentAt[g] = 0;
        if (measuring) lost++;
        send(slot);
      }
    }
  }, 50);

  let start = 0;
  let end = 0;
  let cpuStart: number | undefined;
  let cpuEnd: number | undefined;
  try {
    for (let slot = 0; slot < spec.inFlight; slot++) send(slot);
    await sleep(spec.warmupMs);
    measuring = true;
    cpuStart = processCpuMs(spec.serverPid);
    start = performance.now();
    const deadline = start + spec.durationMs;
    // Bounded by time and by the request pool.
    while (performance.now() < deadline && next < TOTAL)
      await sleep(Math.min(20, deadline - performance.now()));
    measuring = false;
    end = performance.now();
    cpuEnd = processCpuMs(spec.serverPid);
  } finally {
    stopping = true;
    clearInterval(sweep);
    await sleep(Math.min(timeoutMs, 100));
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  const lat = latencies.subarray(0, nLat).sort();
  return {
    reqPerSec: nLat / ((end - start) / 1000),
    p50Us: percentile(lat, 0.5) * 1000,
    p99Us: percentile(lat, 0.99) * 1000,
    completed: nLat,
    lost,
    errors,
    exhausted: next >= TOTAL,
    serverCpuUs:
      cpuStart === undefined || cpuEnd === undefined || nLat === 0
        ? undefined
        : ((cpuEnd - cpuStart) * 1000) / nLat,
  };
}
