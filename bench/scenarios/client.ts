// Client throughput: our CoapClient against node-coap's client, both in this process, against the
// raw echo server in a child process (the fastest server, so the client is what is measured).
// Beside them the ceiling, as the raw echo is the server's: a raw dgram client that sends a
// fixed GET and matches the answer by its token, nothing else (no retransmission, no options
// decoded). CON and NON, 1 and 64 requests in flight; a request unanswered within 2 s counts as
// failed.
import dgram from 'node:dgram';
import { Agent, request } from 'coap';
import { CoapClient } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { LOAD_CASES as CASES, type LoadCase as Case, caseLabel } from '../load/cases.js';
import { type DriveResult, drive, type OneRequest } from '../load/drive.js';
import type { Row, SectionResult } from '../report/types.js';
import { type Child, sibling, spawnTs } from '../servers/spawn.js';

const HOST = '127.0.0.14';
const TIMEOUT_MS = 2000;
const label = (c: Case) => `GET ${caseLabel(c)}`;

async function runOurs(port: number, c: Case, cfg: BenchConfig): Promise<DriveResult> {
  // NSTART (RFC 7252 §4.7) is 1 by default; the bench raises it to the number in flight.
  const client = await CoapClient.create({
    bind: [{ address: '127.0.0.1', port: 0 }],
    transmission: { nstart: c.inFlight },
  });
  const uri = `coap://${HOST}:${port}/bench/hello`;
  const one: OneRequest = () =>
    client.request({ uri, confirmable: c.confirmable, timeout: TIMEOUT_MS }).then(
      (r) => r.code === 0x45,
      () => false,
    );
  try {
    return await drive(one, c.inFlight, cfg.warmupMs, cfg.durationMs);
  } finally {
    await client.close();
  }
}

async function runNodeCoap(port: number, c: Case, cfg: BenchConfig): Promise<DriveResult> {
  // An agent on its own socket: with the global agent node-coap closes and reopens its socket
  // whenever no request is in flight, which would penalise it at 1 in flight.
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind({ address: '127.0.0.1', port: 0 }, r));
  const agent = new Agent({ type: 'udp4', socket });
  agent.on('error', () => {});
  const one: OneRequest = () =>
    new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), TIMEOUT_MS);
      const req = request({
        hostname: HOST,
        port,
        pathname: '/bench/hello',
        confirmable: c.confirmable,
        agent,
      });
      req.on('response', (res: { code: string }) => {
        clearTimeout(t);
        resolve(res.code === '2.05');
      });
      req.on('error', () => {
        clearTimeout(t);
        resolve(false);
      });
      req.end();
    });
  try {
    return await drive(one, c.inFlight, cfg.warmupMs, cfg.durationMs);
  } finally {
    // node-coap never calls close()'s callback for an agent on a given socket: don't wait for it.
    agent.close();
    await new Promise<void>((r) => socket.close(() => r()));
  }
}

async function runRaw(port: number, c: Case, cfg: BenchConfig): Promise<DriveResult> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind({ address: '127.0.0.1', port: 0 }, r));
  // GET /bench/hello with a 2-byte token (RFC 7252 §3): header, token, Uri-Path "bench", "hello".
  const template = Buffer.from([
    0x42,
    0x01,
    0,
    0,
    0,
    0,
    0xb5,
    ...Buffer.from('bench'),
    0x05,
    ...Buffer.from('hello'),
  ]);
  if (!c.confirmable) template[0] = 0x52;
  const pending = new Map<number, (ok: boolean) => void>();
  socket.on('message', (m) => {
    if (m.length < 6 || (m[0]! & 15) !== 2) return;
    const token = m.readUInt16BE(4);
    const done = pending.get(token);
    if (done === undefined) return;
    pending.delete(token);
    done(m[1] === 0x45);
  });
  let next = 0;
  const one: OneRequest = () =>
    new Promise<boolean>((resolve) => {
      next = (next + 1) & 0xffff;
      const id = next;
      const out = Buffer.from(template);
      out.writeUInt16BE(id, 2);
      out.writeUInt16BE(id, 4);
      const t = setTimeout(() => {
        pending.delete(id);
        resolve(false);
      }, TIMEOUT_MS);
      pending.set(id, (ok) => {
        clearTimeout(t);
        resolve(ok);
      });
      socket.send(out, port, HOST);
    });
  try {
    return await drive(one, c.inFlight, cfg.warmupMs, cfg.durationMs);
  } finally {
    await new Promise<void>((r) => socket.close(() => r()));
  }
}

export async function clientSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  let echo: Child;
  try {
    echo = await spawnTs('raw echo', sibling(import.meta.url, '../servers/echo.ts'), [HOST]);
  } catch (err) {
    notes.push(`raw echo server: ${(err as Error).message.split('\n')[0]}`);
    return { name: 'client', title: 'Client', columns: ['ours', 'node-coap', 'raw dgram'], rows, notes };
  }
  try {
    for (const c of CASES) {
      // Interleaved rounds; the best of each client is kept.
      let ours: DriveResult | undefined;
      let peer: DriveResult | undefined;
      let raw: DriveResult | undefined;
      for (let round = 0; round < cfg.rounds; round++) {
        const o = await runOurs(echo.port, c, cfg);
        const p = await runNodeCoap(echo.port, c, cfg);
        const w = await runRaw(echo.port, c, cfg);
        for (const [name, r] of [
          ['ours', o],
          ['node-coap', p],
          ['raw dgram', w],
        ] as const) {
          log(
            `  client ${name.padEnd(9)} ${label(c).padEnd(14)} ${Math.round(r.reqPerSec)} req/s  p50 ${r.p50Us.toFixed(0)} µs  p99 ${r.p99Us.toFixed(0)} µs  failed ${r.failed}`,
          );
          if (r.failed > 0)
            notes.push(`${name} ${label(c)} round ${round + 1}: ${r.failed} failed or timed out`);
        }
        if (ours === undefined || o.reqPerSec > ours.reqPerSec) ours = o;
        if (peer === undefined || p.reqPerSec > peer.reqPerSec) peer = p;
        if (raw === undefined || w.reqPerSec > raw.reqPerSec) raw = w;
      }
      const row = (what: string, unit: string, higher: boolean, f: (r: DriveResult) => number) => ({
        scenario: `${label(c)} ${what}`,
        unit,
        higherIsBetter: higher,
        values: { ours: finite(f(ours!)), 'node-coap': finite(f(peer!)), 'raw dgram': finite(f(raw!)) },
      });
      rows.push(
        row('throughput', 'req/s', true, (r) => r.reqPerSec),
        row('p50', 'µs', false, (r) => r.p50Us),
        row('p99', 'µs', false, (r) => r.p99Us),
      );
    }
  } finally {
    await echo.stop();
  }
  notes.push('our client runs with NSTART raised to the number in flight (RFC 7252 §4.7 default is 1)');
  return {
    name: 'client',
    title: 'Client: CoapClient vs node-coap client and a raw dgram client -> raw echo server (child process)',
    columns: ['ours', 'node-coap', 'raw dgram'],
    rows,
    notes,
  };
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
