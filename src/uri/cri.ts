/**
 * @module uri/cri
 * Constrained Resource Identifiers (draft-ietf-core-href §5.1) in the forms the group proxy
 * options use (draft-ietf-core-groupcomm-proxy §3, §6): a CRI of scheme and authority
 * `[scheme-id, [host, ?port]]`, a CRI reference `[null, [host, ?port], ?path]` or
 * `[true, path]`, and the Reply-From value, a CBOR sequence of one CRI and an optional reference.
 *
 * Encoding and the types; decoding, which is strict, is uri/cri-decode.
 */
import { type CborValue, encodeCbor } from '../cbor/index.js';
import { CoapError } from '../errors.js';
import { ipFamily, ipv6ToBytes, splitZone } from '../util/ip.js';
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
export const SCHEME_NAMES: ReadonlyMap<number, string> = new Map(
  [...SCHEME_NUMBERS].map(([name, n]) => [-1 - n, name]),
);
export const SCHEME_NAME = /^[a-z][a-z0-9+.-]*$/;

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
