/**
 * A packet capture of UDP on one interface, for tests that must show what did (or did not) go
 * on the wire. It runs `dumpcap` (Wireshark's capture engine, installed with tshark), which also
 * works as the mapped root of `unshare -rn` where tcpdump cannot drop its privileges, and reads
 * its libpcap output from a pipe as it comes. Use it only inside a private network namespace
 * (test/support/netns.ts), where the only traffic is the test's own.
 *
 * `start()` returns once a marker datagram sent after start-up has been captured, so nothing the
 * test sends afterwards can be missed; `mark(label)` does the same at any point, which splits the
 * capture into phases; `stop()` ends dumpcap and returns every datagram.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** One captured UDP datagram. */
export interface CapturedDatagram {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Buffer;
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
  readonly datagrams: CapturedDatagram[] = [];

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
    if (version === 4 && ip.length >= 20) {
      const ihl = (ip[0]! & 15) * 4;
      if (ip[9] !== 17 || (ip.readUInt16BE(6) & 0x1fff) !== 0) return; // UDP, first fragment
      src = [...ip.subarray(12, 16)].join('.');
      dst = [...ip.subarray(16, 20)].join('.');
      udp = ip.subarray(ihl, ip.readUInt16BE(2));
    } else if (version === 6 && ip.length >= 40) {
      if (ip[6] !== 17) return;
      const hex = (b: Buffer) => (b.toString('hex').match(/.{4}/g) ?? []).join(':');
      src = hex(ip.subarray(8, 24));
      dst = hex(ip.subarray(24, 40));
      udp = ip.subarray(40, 40 + ip.readUInt16BE(4));
    } else return;
    if (udp.length < 8) return;
    this.datagrams.push({
      src,
      srcPort: udp.readUInt16BE(0),
      dst,
      dstPort: udp.readUInt16BE(2),
      payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))),
    });
  }
}

/** A running capture. */
export interface Capture {
  /** Every datagram captured so far. */
  readonly datagrams: readonly CapturedDatagram[];
  /** Sends a marker datagram carrying `label` and resolves once it has been captured; returns its index. */
  mark(label: string): Promise<number>;
  /** Ends dumpcap; resolves with every datagram captured. */
  stop(): Promise<readonly CapturedDatagram[]>;
}

/**
 * Starts capturing UDP on `iface` (default `lo`). Resolves once a first marker is captured.
 * @throws when dumpcap exits, or no marker is captured within MARK_TRIES * MARK_EVERY_MS.
 */
export async function startCapture(iface = 'lo'): Promise<Capture> {
  const child: ChildProcess = spawn('dumpcap', ['-q', '-P', '-i', iface, '-f', 'udp', '-w', '-'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));

  const mark = async (label: string): Promise<number> => {
    const bytes = Buffer.from(`capture-mark ${label}`);
    const seen = () => reader.datagrams.findIndex((d) => d.dstPort === MARK_PORT && d.payload.equals(bytes));
    for (let i = 0; i < MARK_TRIES; i++) {
      if (failure) throw failure;
      if (!running) throw new Error(`dumpcap exited: ${stderr.trim()}`);
      const at = seen();
      if (at >= 0) return at;
      // Sent again until seen: the first ones may precede the start of the capture.
      sock.send(bytes, MARK_PORT, '127.0.0.1');
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

  try {
    await mark('start');
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { datagrams: reader.datagrams, mark, stop };
}
