/**
 * @module uri/cri-decode
 * Decoding CRIs, CRI references and Reply-From values (draft-ietf-core-href §5.1,
 * draft-ietf-core-groupcomm-proxy §3), strictly: trailing default sections must be absent, the
 * host is an IP literal of 4 or 16 bytes (with an optional zone-id) or host-name labels, and
 * userinfo, percent-encoded text and relative `discard` values are refused with a `CriError`,
 * since a CoAP authority has none of them (RFC 7252 §6.1).
 */
import { CborError, type CborValue, decodeCbor, decodeCborSequence } from '../cbor/index.js';
import { canonicalIPv6 } from '../util/ip.js';
import {
  type Cri,
  type CriAuthority,
  CriError,
  type CriReference,
  type ReplyFrom,
  SCHEME_NAME,
  SCHEME_NAMES,
} from './cri.js';

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
