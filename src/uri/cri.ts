/**
 * @module uri/cri
 * Constrained Resource Identifiers (draft-ietf-core-href §5.1) in the forms the group proxy
 * options use (draft-ietf-core-groupcomm-proxy §3, §6): a CRI of scheme and authority
 * `[scheme-id, [host, ?port]]`, a CRI reference `[null, [host, ?port], ?path]` or
 * `[true, path]`, and the Reply-From value, a CBOR sequence of one CRI and an optional reference.
 *
 * Decoding is strict: trailing default sections must be absent (href §5.1), the host is an IP
 * literal as a byte string of 4 or 16 bytes (with an optional zone-id) or host-name labels,
 * and userinfo, percent-encoded text (href §6.1, PET) and relative `discard` values are refused
 * with a `CriError`, since a CoAP authority has none of them (RFC 7252 §6.1).
 */
import { CborError, type CborValue, decodeCbor, decodeCborSequence, encodeCbor } from '../cbor/index.js';
import { CoapError } from '../errors.js';
import { canonicalIPv6, ipFamily, ipv6ToBytes, splitZone } from '../util/ip.js';
import { formatHost } from './format.js';
import { hostFromAddress } from './types.js';

/**
 * Bytes that are not a CRI of the supported forms, or a Reply-From value that breaks
 * groupcomm-proxy §3. Code `ERR_COAP_CRI`.
 *
 * @example
 * ```ts
 * try { decodeCri(Buffer.from('8220', 'hex')); }
 * catch (e) { if (e instanceof CriError) console.log(e.message); } // the authority is missing
 * ```
 */
export class CriError extends CoapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_COAP_CRI', message, options);
  }
}

/** The host and port of a CRI authority (href §5.1 `authority`), without userinfo. */
export interface CriAuthority {
  /** An IPv4 literal, an RFC 5952 IPv6 literal without brackets (zone after `%`), or a host name. */
  readonly host: string;
  readonly hostKind: 'ipv4' | 'ipv6' | 'name';
  /** The port; absent when the CRI omits it, which means the scheme's default (href §2.1 C7). */
  readonly port?: number;
}

/** A CRI of scheme and authority: what Reply-From carries first (groupcomm-proxy §3). */
export interface Cri extends CriAuthority {
  /** The scheme name, lower case (`coap`, `coaps`, `coap+tcp`, …). */
  readonly scheme: string;
}

/**
 * A CRI reference with no scheme (groupcomm-proxy §3, second element): an authority, a path, or
 * both. `path` absent means "not given"; `[]` is the empty path.
 */
export interface CriReference {
  readonly authority?: CriAuthority;
  readonly path?: readonly string[];
}

/** The decoded Reply-From option value (groupcomm-proxy §3). */
export interface ReplyFrom {
  /** The origin server, or the reverse proxy standing in for it (groupcomm-proxy §6). */
  readonly origin: Cri;
  /** Only from a reverse proxy standing in for each member: how to address that member through it. */
  readonly reference?: CriReference;
}

/** href §8.1 (table scheme-map): scheme numbers; the scheme-id is `-1 - number` (href §5.1.1). */
const SCHEME_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['coap', 0],
  ['coaps', 1],
  ['coap+tcp', 6],
  ['coaps+tcp', 7],
  ['coap+ws', 24],
  ['coaps+ws', 25],
]);
const SCHEME_NAMES: ReadonlyMap<number, string> = new Map(
  [...SCHEME_NUMBERS].map(([name, n]) => [-1 - n, name]),
);
const SCHEME_NAME = /^[a-z][a-z0-9+.-]*$/;

function encodeAuthority(a: CriAuthority): CborValue[] {
  const out: CborValue[] = [];
  if (a.hostKind === 'ipv4') {
    if (ipFamily(a.host) !== 4) throw new CriError(`${JSON.stringify(a.host)} is not an IPv4 literal`);
    out.push(Buffer.from(a.host.split('.').map(Number)));
  } else if (a.hostKind === 'ipv6') {
    const { address, zone } = splitZone(a.host);
    if (ipFamily(address) !== 6) throw new CriError(`${JSON.stringify(a.host)} is not an IPv6 literal`);
    out.push(ipv6ToBytes(address));
    if (zone !== undefined) out.push(zone);
  } else {
    const labels = a.host.split('.');
    if (labels.some((l) => l === '')) throw new CriError(`${JSON.stringify(a.host)} has an empty label`);
    out.push(...labels);
  }
  if (a.port !== undefined) {
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535)
      throw new CriError(`port ${a.port} is not in 0-65535`);
    out.push(a.port);
  }
  return out;
}

function schemeId(scheme: string): number | string {
  const n = SCHEME_NUMBERS.get(scheme);
  if (n !== undefined) return -1 - n;
  if (!SCHEME_NAME.test(scheme)) throw new CriError(`${JSON.stringify(scheme)} is not a scheme name`);
  return scheme;
}

/**
 * The CBOR of a CRI of scheme and authority (href §5.1): `[scheme-id, [host, ?port]]`. The port
 * is written exactly when `cri.port` is given.
 *
 * @example
 * ```ts
 * encodeCri({ scheme: 'coap', host: '127.0.0.2', hostKind: 'ipv4' }).toString('hex'); // '822081447f000002'
 * ```
 */
export function encodeCri(cri: Cri): Buffer {
  return encodeCbor([schemeId(cri.scheme), encodeAuthority(cri)]);
}

/**
 * The CBOR of a CRI reference with no scheme (groupcomm-proxy §3): `[null, authority, ?path]`
 * with an authority, else `[true, path]` (href §5.1: two leading nulls become `discard`).
 */
export function encodeCriReference(ref: CriReference): Buffer {
  const path = ref.path === undefined ? [] : [...ref.path];
  if (ref.authority !== undefined) {
    const items: CborValue[] = [null, encodeAuthority(ref.authority)];
    if (path.length > 0) items.push(path);
    return encodeCbor(items);
  }
  if (ref.path === undefined) throw new CriError('a CRI reference needs an authority or a path');
  return encodeCbor([true, path]);
}

/** The Reply-From value (groupcomm-proxy §3): the CRI, then the reference if any, as a CBOR sequence. */
export function encodeReplyFrom(value: ReplyFrom): Buffer {
  const first = encodeCri(value.origin);
  if (value.reference === undefined) return first;
  if (value.reference.authority !== undefined && value.origin.hostKind === 'name')
    throw new CriError('with an authority in the reference, the first CRI must not have a host name');
  return Buffer.concat([first, encodeCriReference(value.reference)]);
}

/**
 * The CRI a proxy puts in Reply-From for a response from `address`:`port` (groupcomm-proxy
 * §5.4.1): IPv4-mapped IPv6 becomes IPv4, the zone is dropped (it means nothing on another
 * link), and the port is omitted only when it is the scheme's default (href §2.1 C7).
 */
export function criOfEndpoint(scheme: 'coap' | 'coaps', address: string, port: number): Cri {
  const { host, hostKind } = hostFromAddress(splitZone(address).address);
  if (hostKind === 'name') throw new CriError(`${JSON.stringify(address)} is not an IP address`);
  const dflt = scheme === 'coaps' ? 5684 : 5683;
  return port === dflt ? { scheme, host, hostKind } : { scheme, host, hostKind, port };
}

/**
 * The URI of a CRI (href §6.2): `scheme://host[:port]`, the port only when the CRI has one.
 *
 * @example
 * ```ts
 * formatCri({ scheme: 'coap', host: '2001:db8::1', hostKind: 'ipv6', port: 1234 }); // 'coap://[2001:db8::1]:1234'
 * ```
 */
export function formatCri(cri: Cri): string {
  return `${cri.scheme}://${formatHost(cri)}${cri.port === undefined ? '' : `:${cri.port}`}`;
}

function fail(what: string): never {
  throw new CriError(what);
}

function decodeHostIp(bytes: Uint8Array): Pick<CriAuthority, 'host' | 'hostKind'> {
  if (bytes.length === 4) return { host: [...bytes].join('.'), hostKind: 'ipv4' };
  if (bytes.length === 16) {
    const b = Buffer.from(bytes);
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(i * 2).toString(16));
    return { host: canonicalIPv6(groups.join(':')), hostKind: 'ipv6' };
  }
  return fail(`an IP host has 4 or 16 bytes, not ${bytes.length}`);
}

function decodeAuthority(v: CborValue): CriAuthority {
  if (!Array.isArray(v)) return fail('the authority is not an array (an authority-less CRI has no host)');
  const items = v as readonly CborValue[];
  if (items.length === 0) fail('the authority is empty');
  if (items[0] === false) fail('userinfo is not supported (a CoAP authority has none)');
  let i = 0;
  let host: Pick<CriAuthority, 'host' | 'hostKind'>;
  const first = items[0];
  if (first instanceof Uint8Array) {
    host = decodeHostIp(first);
    i = 1;
    if (typeof items[1] === 'string') {
      if (host.hostKind !== 'ipv6' || items[1] === '') fail('a zone-id follows only an IPv6 host');
      host = { host: `${host.host}%${items[1]}`, hostKind: 'ipv6' };
      i = 2;
    }
  } else {
    const labels: string[] = [];
    while (typeof items[i] === 'string') labels.push(items[i++] as string);
    if (labels.length === 0) fail('the authority has no host');
    if (labels.some((l) => l === '' || l.includes('.'))) fail('a host-name label is empty or holds a dot');
    host = { host: labels.join('.'), hostKind: 'name' };
  }
  if (i === items.length) return host;
  const port = items[i];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail('the port is not an integer in 0-65535');
  if (i + 1 !== items.length) fail('the authority has items after the port');
  return { ...host, port };
}

function decodeScheme(v: CborValue): string {
  if (typeof v === 'number' && v < 0) {
    const name = SCHEME_NAMES.get(v);
    if (name === undefined) fail(`scheme-id ${v} is not one this codec knows`);
    return name;
  }
  if (typeof v === 'string' && SCHEME_NAME.test(v)) return v;
  return fail('the scheme is neither a scheme-id nor a lower-case scheme name');
}

function textArray(v: CborValue, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail(`the ${what} is not an array of text (percent-encoded text is not supported)`);
  return [...(v as string[])];
}

function criFrom(v: CborValue): Cri {
  if (!Array.isArray(v)) return fail('a CRI is an array');
  const items = v as readonly CborValue[];
  if (items.length < 2) fail('the authority is missing');
  if (items.length > 2) fail('a CRI here has a scheme and an authority only (no path, query or fragment)');
  return { scheme: decodeScheme(items[0]!), ...decodeAuthority(items[1]!) };
}

function referenceFrom(v: CborValue): CriReference {
  if (!Array.isArray(v)) return fail('a CRI reference is an array');
  const items = v as readonly CborValue[];
  if (items[0] === null) {
    if (items.length < 2 || items.length > 3)
      fail('a reference with a null scheme has an authority and a path only');
    const authority = decodeAuthority(items[1]!);
    if (items.length === 2) return { authority };
    const path = textArray(items[2]!, 'path');
    // href §5.1: a trailing default (the empty path) must be removed.
    if (path.length === 0) fail('an empty path must be left out');
    return { authority, path };
  }
  if (items[0] === true) {
    if (items.length !== 2) fail('a reference with discard true has a path only');
    const path = textArray(items[1]!, 'path');
    return { path };
  }
  return fail(
    'the reference is neither [null, authority, ...] nor [true, path] (relative discards are not supported)',
  );
}

function cborOf<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof CborError) throw new CriError(`not well-formed CBOR: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Decodes a CRI of scheme and authority, and nothing else.
 * @throws CriError `ERR_COAP_CRI` for any other form, or bytes that are not one CBOR item.
 */
export function decodeCri(bytes: Buffer): Cri {
  return criFrom(cborOf(() => decodeCbor(bytes)));
}

/**
 * Decodes a CRI reference with no scheme (`[null, authority, ?path]` or `[true, path]`).
 * @throws CriError `ERR_COAP_CRI` for any other form.
 */
export function decodeCriReference(bytes: Buffer): CriReference {
  return referenceFrom(cborOf(() => decodeCbor(bytes)));
}

/**
 * Decodes a Reply-From value (groupcomm-proxy §3): one CRI, optionally followed by one reference.
 * @throws CriError `ERR_COAP_CRI` for more than two items, a first item that is not a CRI of
 * scheme and authority, or a reference with an authority after a CRI with a host name.
 *
 * @example
 * ```ts
 * decodeReplyFrom(Buffer.from('822081447f000002', 'hex')).origin; // { scheme: 'coap', host: '127.0.0.2', hostKind: 'ipv4' }
 * ```
 */
export function decodeReplyFrom(bytes: Buffer): ReplyFrom {
  const items = cborOf(() => decodeCborSequence(bytes));
  if (items.length === 0) fail('Reply-From is empty');
  if (items.length > 2) fail(`Reply-From has ${items.length} items, at most 2`);
  const origin = criFrom(items[0]!);
  if (items.length === 1) return { origin };
  const reference = referenceFrom(items[1]!);
  if (reference.authority !== undefined && origin.hostKind === 'name')
    fail('with an authority in the reference, the first CRI must not have a host name');
  return { origin, reference };
}
