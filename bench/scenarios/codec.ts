// Codec: encode and decode of three typical messages, ours (message/encode, message/decode)
// against coap-packet (node-coap's codec: generate/parse), in operations per second of this
// process's CPU time. On a machine shared with other jobs, wall time also counts the time the
// bench waits for a core, and that changes from one second to the next: ours and the peer are
// timed by CPU time, in slices that alternate, so that both see the same machine. Each figure
// is the better of two rounds, after a warm-up.
import { generate, type Packet, parse } from 'coap-packet';
import { decodeMessage, encodeMessage } from '../../src/entry/codec.js';
import type { CoapMessage } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import type { Row, SectionResult } from '../report/types.js';

const u = (n: number) =>
  n === 0 ? Buffer.alloc(0) : n < 256 ? Buffer.from([n]) : Buffer.from([n >> 8, n & 0xff]);
const s = (t: string) => Buffer.from(t);

interface Case {
  readonly name: string;
  readonly ours: CoapMessage;
  readonly peer: Packet;
}

const CASES: readonly Case[] = [
  {
    name: 'GET, 2 Uri-Path + token',
    ours: {
      type: 0,
      code: 1,
      messageId: 0x1234,
      token: s('\x01\x02\x03\x04'),
      options: [
        { number: 11, value: s('sensors') },
        { number: 11, value: s('temp') },
      ],
      payload: Buffer.alloc(0),
    },
    peer: {
      code: 'GET',
      confirmable: true,
      messageId: 0x1234,
      token: s('\x01\x02\x03\x04'),
      options: [
        { name: 'Uri-Path', value: s('sensors') },
        { name: 'Uri-Path', value: s('temp') },
      ],
    },
  },
  {
    name: '2.05, Content-Format + 20-byte payload',
    ours: {
      type: 2,
      code: 0x45,
      messageId: 0x1234,
      token: s('\x01\x02\x03\x04'),
      options: [{ number: 12, value: u(50) }],
      payload: s('{"temp":21.5,"u":"C"}').subarray(0, 20),
    },
    peer: {
      code: '2.05',
      ack: true,
      messageId: 0x1234,
      token: s('\x01\x02\x03\x04'),
      options: [{ name: 'Content-Format', value: u(50) }],
      payload: s('{"temp":21.5,"u":"C"}').subarray(0, 20),
    },
  },
  {
    name: 'POST, 8 options',
    ours: {
      type: 0,
      code: 2,
      messageId: 0x4321,
      token: s('abcdefgh'),
      options: [
        { number: 3, value: s('example.com') },
        { number: 7, value: u(61616) },
        { number: 11, value: s('a') },
        { number: 11, value: s('bb') },
        { number: 11, value: s('ccc') },
        { number: 12, value: u(50) },
        { number: 15, value: s('x=1') },
        { number: 17, value: u(50) },
      ],
      payload: s('{"on":true}'),
    },
    peer: {
      code: 'POST',
      confirmable: true,
      messageId: 0x4321,
      token: s('abcdefgh'),
      options: [
        { name: 'Uri-Host', value: s('example.com') },
        { name: 'Uri-Port', value: u(61616) },
        { name: 'Uri-Path', value: s('a') },
        { name: 'Uri-Path', value: s('bb') },
        { name: 'Uri-Path', value: s('ccc') },
        { name: 'Content-Format', value: u(50) },
        { name: 'Uri-Query', value: s('x=1') },
        { name: 'Accept', value: u(50) },
      ],
      payload: s('{"on":true}'),
    },
  },
];

let sink = 0;

/** CPU time of this process, user and system, in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `fn` in batches of 1000 for `ms` of CPU time (and at most 20x that of wall time); ops and CPU ms. */
function slice(fn: () => number, ms: number): [number, number] {
  let acc = 0;
  let ops = 0;
  const c0 = cpuMs();
  const wallEnd = performance.now() + 20 * ms;
  let c = c0;
  // Bounded by CPU time, by wall time (a process starved of CPU), and by ops (a clock that would not move).
  while (c - c0 < ms && ops < 1e9 && performance.now() < wallEnd) {
    for (let i = 0; i < 1000; i++) acc += fn();
    ops += 1000;
    c = cpuMs();
  }
  sink ^= acc;
  return [ops, c - c0];
}

const SLICES = 10;

/**
 * Operations per CPU second of `ours` and `peer`: a warm-up of a quarter of `ms` each, then `ms`
 * each in SLICES alternating slices.
 */
function opsPerCpuSecond(ours: () => number, peer: () => number, ms: number): [number, number] {
  slice(ours, ms / 4);
  slice(peer, ms / 4);
  let oursOps = 0;
  let oursCpu = 0;
  let peerOps = 0;
  let peerCpu = 0;
  for (let i = 0; i < SLICES; i++) {
    const [o, oc] = slice(ours, ms / SLICES);
    const [p, pc] = slice(peer, ms / SLICES);
    oursOps += o;
    oursCpu += oc;
    peerOps += p;
    peerCpu += pc;
  }
  return [oursOps / (oursCpu / 1000), peerOps / (peerCpu / 1000)];
}

export async function codecSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: Row[] = [];
  for (const c of CASES) {
    const bytes = encodeMessage(c.ours);
    const theirs = generate(c.peer);
    if (!theirs.equals(bytes))
      notes.push(`${c.name}: coap-packet encodes ${theirs.toString('hex')}, ours ${bytes.toString('hex')}`);
    const fns = {
      encode: {
        ours: () => encodeMessage(c.ours).length,
        peer: () => generate(c.peer).length,
      },
      decode: {
        ours: () => decodeMessage(bytes).options.length,
        peer: () => parse(bytes).options.length,
      },
    };
    for (const op of ['encode', 'decode'] as const) {
      let ours = 0;
      let peer = 0;
      for (let round = 0; round < 2; round++) {
        const [o, p] = opsPerCpuSecond(fns[op].ours, fns[op].peer, cfg.codecMs);
        ours = Math.max(ours, o);
        peer = Math.max(peer, p);
      }
      log(
        `  codec ${op} ${c.name.padEnd(38)} ours ${Math.round(ours)} ops/s  coap-packet ${Math.round(peer)} ops/s`,
      );
      rows.push({
        scenario: `${op} ${c.name}`,
        unit: 'ops/s',
        higherIsBetter: true,
        values: { ours, 'coap-packet': peer },
      });
    }
  }
  if (sink === 0.5) log('unreachable');
  return {
    name: 'codec',
    title: 'Codec: encode/decode in this process, ops per CPU second',
    columns: ['ours', 'coap-packet'],
    rows,
    notes,
  };
}
