/**
 * A packet capture of UDP, IGMP and MLD on one interface, for tests that must show what did (or
 * did not) go on the wire. It runs `dumpcap` (Wireshark's capture engine, installed with tshark),
 * which also works as the mapped root of `unshare -rn` where tcpdump cannot drop its privileges,
 * and reads its libpcap output from a pipe as it comes. Use it only inside a private network
 * namespace (test/support/netns.ts, topology.ts), where the only traffic is the test's own.
 *
 * `start()` returns once a marker datagram sent after start-up has been captured, so nothing the
 * test sends afterwards can be missed; `mark(label)` does the same at any point, which splits the
 * capture into phases; `stop()` ends dumpcap and returns every datagram. On `lo` the marker goes
 * to 127.0.0.1; on another interface to ff02::1 on that interface, so it is seen leaving there.
 *
 * Each datagram carries its IPv4 TTL or IPv6 hop limit; IGMP and MLD membership reports
 * (RFC 3376, RFC 3810; RFC 7390 Appendix A) are decoded into the groups they join and leave.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { canonicalIPv6 } from '../../src/util/ip.js';

/** One captured UDP datagram. */
export interface CapturedDatagram {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Buffer;
  /** The IPv4 TTL or IPv6 hop limit it was captured with. */
  readonly hops: number;
  /** Its index among every captured packet (datagrams and reports), for ordering the two. */
  readonly seq: number;
}

/** One group change announced by a membership report. */
export interface GroupChange {
  readonly group: string;
  /** True for a join (a report, or a change to exclude nothing); false for a leave. */
  readonly joined: boolean;
}

/** One captured IGMP or MLD membership report, or leave / done. */
export interface MembershipReport {
  readonly protocol: 'igmp' | 'mld';
  readonly src: string;
  readonly dst: string;
  readonly hops: number;
  readonly changes: readonly GroupChange[];
  readonly seq: number;
}

/** Why a capture cannot run here, or undefined when it can. */
export function captureUnavailable(): string | undefined {
  const r = spawnSync('dumpcap', ['-v'], { encoding: 'utf8' });
  if (r.error) return `dumpcap (from tshark / wireshark-common) is not installed: ${r.error.message}`;
  return r.status === 0 ? undefined : `dumpcap -v failed: ${r.stderr.trim()}`;
}

/** The port marker datagrams go to on 127.0.0.1 (discard, RFC 863); nothing listens there. */
const MARK_PORT = 9;
const MARK_TRIES = 200;
const MARK_EVERY_MS = 25;

/** Libpcap link types: Ethernet (what Linux gives `lo`) and raw IP. */
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;

/** Parses a libpcap stream (global header, then records) into UDP datagrams; keeps what is incomplete. */
class PcapReader {
  #buf = Buffer.alloc(0);
  #little: boolean | undefined;
  #link = -1;
  #seq = 0;
  readonly datagrams: CapturedDatagram[] = [];
  readonly reports: MembershipReport[] = [];

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (this.#little === undefined) {
      if (this.#buf.length < 24) return;
      const magic = this.#buf.readUInt32LE(0);
      if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.#little = true;
      else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.#little = false;
      else throw new Error(`not a libpcap stream (magic ${magic.toString(16)})`);
      this.#link = this.#u32(20);
      if (this.#link !== LINKTYPE_ETHERNET && this.#link !== LINKTYPE_RAW)
        throw new Error(`unsupported link type ${this.#link}`);
      this.#buf = this.#buf.subarray(24);
    }
    // Bounded by the bytes received: every round consumes one whole record.
    while (this.#buf.length >= 16) {
      const len = this.#u32(8);
      if (this.#buf.length < 16 + len) return;
      this.#frame(this.#buf.subarray(16, 16 + len));
      this.#buf = this.#buf.subarray(16 + len);
    }
  }

  #u32(at: number): number {
    return this.#little ? this.#buf.readUInt32LE(at) : this.#buf.readUInt32BE(at);
  }

  #frame(f: Buffer): void {
    let ip = f;
    if (this.#link === LINKTYPE_ETHERNET) {
      if (f.length < 14) return;
      const type = f.readUInt16BE(12);
      if (type !== 0x0800 && type !== 0x86dd) return;
      ip = f.subarray(14);
    }
    const version = ip.length > 0 ? ip[0]! >> 4 : 0;
    let udp: Buffer;
    let src: string;
    let dst: string;
    let hops: number;
    if (version === 4 && ip.length >= 20) {
      const ihl = (ip[0]! & 15) * 4;
      if ((ip.readUInt16BE(6) & 0x1fff) !== 0) return; // first fragments only
      src = ipv4(ip.subarray(12, 16));
      dst = ipv4(ip.subarray(16, 20));
      hops = ip[8]!;
      const body = ip.subarray(ihl, ip.readUInt16BE(2));
      if (ip[9] === 2) return this.#igmp(body, src, dst, hops);
      if (ip[9] !== 17) return;
      udp = body;
    } else if (version === 6 && ip.length >= 40) {
      src = ipv6(ip.subarray(8, 24));
      dst = ipv6(ip.subarray(24, 40));
      hops = ip[7]!;
      let next = ip[6]!;
      let body = ip.subarray(40, 40 + ip.readUInt16BE(4));
      // MLD travels behind a Hop-by-Hop header with the Router Alert option (RFC 3810 §5).
      if (next === 0 && body.length >= 8) {
        next = body[0]!;
        body = body.subarray((body[1]! + 1) * 8);
      }
      if (next === 58) return this.#mld(body, src, dst, hops);
      if (next !== 17) return;
      udp = body;
    } else return;
    if (udp.length < 8) return;
    this.datagrams.push({
      src,
      srcPort: udp.readUInt16BE(0),
      dst,
      dstPort: udp.readUInt16BE(2),
      payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))),
      hops,
      seq: this.#seq++,
    });
  }

  /** IGMPv2 report (0x16) and leave (0x17), IGMPv3 report (0x22, RFC 3376 §4.2). */
  #igmp(b: Buffer, src: string, dst: string, hops: number): void {
    if (b.length < 8) return;
    const changes: GroupChange[] = [];
    if (b[0] === 0x16 || b[0] === 0x17)
      changes.push({ group: ipv4(b.subarray(4, 8)), joined: b[0] === 0x16 });
    else if (b[0] === 0x22) changes.push(...records(b, 4));
    else return;
    this.reports.push({ protocol: 'igmp', src, dst, hops, changes, seq: this.#seq++ });
  }

  /** MLDv1 report (131) and done (132), MLDv2 report (143, RFC 3810 §5.2). */
  #mld(b: Buffer, src: string, dst: string, hops: number): void {
    if (b.length < 8) return;
    const changes: GroupChange[] = [];
    if ((b[0] === 131 || b[0] === 132) && b.length >= 24)
      changes.push({ group: ipv6(b.subarray(8, 24)), joined: b[0] === 131 });
    else if (b[0] === 143) changes.push(...records(b, 16));
    else return;
    this.reports.push({ protocol: 'mld', src, dst, hops, changes, seq: this.#seq++ });
  }
}

function ipv4(b: Buffer): string {
  return [...b].join('.');
}

function ipv6(b: Buffer): string {
  return canonicalIPv6((b.toString('hex').match(/.{4}/g) ?? []).join(':'));
}

/**
 * The group records of an IGMPv3 or MLDv2 report (`size`: 4 or 16 bytes per address). A record
 * of type 2 or 4 (is / change to exclude) joins; 1 or 3 (is / change to include) with no source
 * leaves (RFC 3376 §4.2.12, RFC 3810 §5.2.12).
 */
function records(b: Buffer, size: 4 | 16): GroupChange[] {
  const out: GroupChange[] = [];
  let at = 8;
  // Bounded by the record count and the report's length.
  for (let n = b.readUInt16BE(6); n > 0 && at + 4 + size <= b.length; n--) {
    const type = b[at]!;
    const sources = b.readUInt16BE(at + 2);
    const group = (size === 4 ? ipv4 : ipv6)(b.subarray(at + 4, at + 4 + size));
    if (type === 2 || type === 4) out.push({ group, joined: true });
    else if ((type === 1 || type === 3) && sources === 0) out.push({ group, joined: false });
    at += 4 + size + sources * size + b[at + 1]! * 4;
  }
  return out;
}

/** A running capture. */
export interface Capture {
  /** Every datagram captured so far. */
  readonly datagrams: readonly CapturedDatagram[];
  /** Every IGMP / MLD membership report captured so far. */
  readonly reports: readonly MembershipReport[];
  /** Resolves once a report matching `test` is captured, or rejects after `timeoutMs`. */
  waitForReport(test: (r: MembershipReport) => boolean, timeoutMs?: number): Promise<MembershipReport>;
  /** Sends a marker datagram carrying `label` and resolves once it has been captured; returns its index. */
  mark(label: string): Promise<number>;
  /** Ends dumpcap; resolves with every datagram captured. */
  stop(): Promise<readonly CapturedDatagram[]>;
}

/** The marker's socket and destination: 127.0.0.1 on lo, ff02::1 on any other interface. */
async function markerSocket(iface: string): Promise<{ sock: Socket; send: (b: Buffer) => void }> {
  if (iface === 'lo') {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return { sock, send: (b) => sock.send(b, MARK_PORT, '127.0.0.1') };
  }
  const sock = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => sock.bind(0, '::', resolve));
  // Pinned to the captured interface, one hop: the marker stays on that link.
  sock.setMulticastInterface(`::%${iface}`);
  sock.setMulticastTTL(1);
  return { sock, send: (b) => sock.send(b, MARK_PORT, `ff02::1%${iface}`) };
}

/**
 * Starts capturing UDP, IGMP and ICMPv6 (MLD comes behind a Hop-by-Hop header, hence `protochain`) on `iface` (default `lo`). Resolves once a first marker
 * is captured.
 * @throws when dumpcap exits, or no marker is captured within MARK_TRIES * MARK_EVERY_MS.
 */
export async function startCapture(iface = 'lo'): Promise<Capture> {
  const child: ChildProcess = spawn(
    'dumpcap',
    ['-q', '-P', '-i', iface, '-f', 'udp or igmp or ip6 protochain 58', '-w', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const reader = new PcapReader();
  let stderr = '';
  let failure: Error | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    try {
      reader.push(d);
    } catch (err) {
      failure = err as Error;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const { sock, send } = await markerSocket(iface);

  const mark = async (label: string): Promise<number> => {
    const bytes = Buffer.from(`capture-mark ${label}`);
    const seen = () => reader.datagrams.findIndex((d) => d.dstPort === MARK_PORT && d.payload.equals(bytes));
    for (let i = 0; i < MARK_TRIES; i++) {
      if (failure) throw failure;
      if (!running) throw new Error(`dumpcap exited: ${stderr.trim()}`);
      const at = seen();
      if (at >= 0) return at;
      // Sent again until seen: the first ones may precede the start of the capture.
      send(bytes);
      await new Promise((r) => setTimeout(r, MARK_EVERY_MS));
    }
    throw new Error(`marker ${label} was not captured: ${stderr.trim()}`);
  };

  let stopping: Promise<readonly CapturedDatagram[]> | undefined;
  /** Idempotent: a test and its `after` hook may both call it. */
  const stop = (): Promise<readonly CapturedDatagram[]> => {
    stopping ??= (async () => {
      sock.close();
      if (running) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(hard);
      }
      if (failure) throw failure;
      return reader.datagrams;
    })();
    return stopping;
  };

  const waitForReport = async (test: (r: MembershipReport) => boolean, timeoutMs = 10_000) => {
    // Bounded: every round waits MARK_EVERY_MS.
    for (let waited = 0; waited <= timeoutMs; waited += MARK_EVERY_MS) {
      if (failure) throw failure;
      const found = reader.reports.find(test);
      if (found !== undefined) return found;
      if (!running) break;
      await new Promise((r) => setTimeout(r, MARK_EVERY_MS));
    }
    throw new Error(
      `no such membership report on ${iface} within ${timeoutMs} ms; captured: ${JSON.stringify(reader.reports)}`,
    );
  };

  try {
    await mark('start');
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { datagrams: reader.datagrams, reports: reader.reports, waitForReport, mark, stop };
}
