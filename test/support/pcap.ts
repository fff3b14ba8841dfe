/**
 * A libpcap stream parser for test/support/capture.ts: UDP datagrams with their TTL / hop limit,
 * and IGMP (RFC 3376) and MLD (RFC 3810) membership reports decoded into the groups they join
 * and leave. Only what the tests look at; anything else is skipped.
 */
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

/** Libpcap link types: Ethernet (what Linux gives `lo`) and raw IP. */
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;

/** Parses a libpcap stream (global header, then records) into UDP datagrams; keeps what is incomplete. */
export class PcapReader {
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
