/**
 * @module util/ip
 * IP address facts the stack needs: family, multicast (RFC 1112, RFC 4291 §2.7), IPv6 multicast
 * scope (RFC 7346), RFC 5952 canonical IPv6 text, and CIDR prefixes for allow-lists.
 */
import { isIP } from 'node:net';

/** 4, 6, or 0 when `address` is not an IP literal. A zone (`%eth0`) is allowed on IPv6. */
export function ipFamily(address: string): 0 | 4 | 6 {
  const pct = address.indexOf('%');
  const bare = pct >= 0 ? address.slice(0, pct) : address;
  const f = isIP(bare);
  if (f === 6) return 6;
  if (f === 4 && pct < 0) return 4;
  return 0;
}

/** Whether `address` is an IPv6 literal as Node reads one (a zone, `%eth0`, allowed). */
export function isIPv6(address: string): boolean {
  return isIP(address) === 6;
}

/** Splits `ff02::fd%eth0` into address and zone. */
export function splitZone(address: string): { address: string; zone: string | undefined } {
  const pct = address.indexOf('%');
  return pct < 0
    ? { address, zone: undefined }
    : { address: address.slice(0, pct), zone: address.slice(pct + 1) };
}

/** True for 224.0.0.0/4 and ff00::/8. */
export function isMulticast(address: string): boolean {
  const f = ipFamily(address);
  if (f === 4) {
    const first = Number(address.slice(0, address.indexOf('.')));
    return first >= 224 && first <= 239;
  }
  // ff00::/8 needs a full first group: `ff::1` is 00ff::1, not multicast.
  if (f === 6)
    return (
      address.indexOf(':') === 4 &&
      (address.charCodeAt(0) | 0x20) === 0x66 &&
      (address.charCodeAt(1) | 0x20) === 0x66
    );
  return false;
}

/**
 * `isMulticast` for an address already known to be a valid IP literal, without parsing it:
 * for the send path. IPv4 224-239 in the first octet; IPv6 `ffXX:`.
 */
export function isMulticastQuick(address: string): boolean {
  const c0 = address.charCodeAt(0);
  if (address.charCodeAt(4) === 0x3a || address.includes(':')) {
    return (
      address.charCodeAt(4) === 0x3a &&
      address.charCodeAt(2) !== 0x3a &&
      address.charCodeAt(3) !== 0x3a &&
      (c0 | 0x20) === 0x66 &&
      (address.charCodeAt(1) | 0x20) === 0x66
    );
  }
  // 224..239: "22" followed by 4-9, or "23" followed by 0-9, then a dot.
  if (c0 !== 0x32 || address.charCodeAt(3) !== 0x2e) return false;
  const c1 = address.charCodeAt(1);
  const c2 = address.charCodeAt(2);
  return (c1 === 0x32 && c2 >= 0x34 && c2 <= 0x39) || (c1 === 0x33 && c2 >= 0x30 && c2 <= 0x39);
}

/** RFC 4291 §2.7 / RFC 7346: the scope nibble of an IPv6 multicast address (2 link, 5 site, 14 global). */
export function ipv6MulticastScope(address: string): number {
  const bytes = ipv6ToBytes(splitZone(address).address);
  return bytes[1]! & 0x0f;
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(address: string): boolean {
  const f = ipFamily(address);
  if (f === 4) return address.startsWith('127.');
  if (f === 6) return ipv6ToBytes(splitZone(address).address).every((b, i) => b === (i === 15 ? 1 : 0));
  return false;
}

/** The 16 bytes of an IPv6 address (no zone). Accepts embedded IPv4 (`::ffff:1.2.3.4`). */
export function ipv6ToBytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const rest = text.slice(lastColon + 1);
  if (rest.includes('.')) {
    for (const p of rest.split('.')) tail.push(Number(p));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, back] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined): number[] =>
    s ? s.split(':').map((h) => Number.parseInt(h, 16)) : [];
  const h = parse(head);
  const t = parse(back);
  const groups = back === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, i * 2);
  if (tail.length === 4) for (let i = 0; i < 4; i++) out[12 + i] = tail[i]!;
  return out;
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function canonicalIPv6(address: string): string {
  const { address: bare, zone } = splitZone(address);
  const b = ipv6ToBytes(bare);
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  const text = bestStart < 0 ? hex(g) : `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
  return zone === undefined ? text : `${text}%${zone}`;
}

/** A parsed CIDR prefix. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Buffer;
  readonly prefix: number;
  readonly text: string;
}

function toBytes(address: string, family: 4 | 6): Buffer {
  return family === 4 ? Buffer.from(address.split('.').map(Number)) : ipv6ToBytes(address);
}

/** Parses `127.0.0.0/8`, `::1/128` or a bare address (a host prefix); undefined if invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(addr);
  if (family === 0 || addr.includes('%')) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { family, bytes: toBytes(addr, family), prefix, text };
}

/** True when `address` lies inside `cidr`. IPv4-mapped IPv6 addresses match IPv4 prefixes. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  let addr = splitZone(address).address;
  let family = ipFamily(addr);
  if (family === 6 && cidr.family === 4 && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(addr)) {
    addr = addr.slice(7);
    family = 4;
  }
  if (family !== cidr.family) return false;
  const b = toBytes(addr, family);
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}
