/**
 * @module group-json/membership
 * The `application/coap-group+json` documents (RFC 7390 §2.6.2.1, §6.2): one group membership
 * object (the body of POST, RFC 7390 §2.6.2.2, and of PUT on one index, §2.6.2.7; the answer
 * to GET on one index, §2.6.2.5) and the index-to-membership collection (PUT and GET on the
 * resource, §2.6.2.4, §2.6.2.6). Parsing validates everything before returning, so a caller
 * applies all of a configuration or none of it (R50: 4.00, nothing changes).
 */
import { COAP_PORT } from '../constants.js';
import { readGroupAddress, readGroupName, writeGroupAddress, writeGroupName } from './address.js';
import { GroupJsonError, quote } from './error.js';
import { INDEX_SPACE_SIZE, isValidIndex, normaliseIndex } from './group-index.js';
import { isJsonObject, jsonKind, readJson } from './strict-json.js';
import type { Membership, MembershipCollection } from './types.js';

/**
 * Reads one membership object. Only "n" and "a" are allowed: RFC 7390 §2.6.2.1 defines no other
 * key, and a controller that sends one expects it to mean something; ignoring it would report
 * success for a configuration the node did not apply (R33, our documented choice).
 */
function readMembership(value: unknown, where: string): Membership {
  const at = where === '' ? '' : `${where}: `;
  if (!isJsonObject(value)) {
    throw new GroupJsonError(`${at}a group membership must be a JSON object, not ${jsonKind(value)}`);
  }
  const m: Membership = {};
  let count = 0;
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'n' && key !== 'a') {
      throw new GroupJsonError(
        `${at}unknown member ${quote(key)}; only "n" and "a" are defined (RFC 7390 §2.6.2.1)`,
      );
    }
    if (typeof v !== 'string') {
      throw new GroupJsonError(`${at}member "${key}" must be a string, not ${jsonKind(v)}`);
    }
    if (key === 'a') m.a = readGroupAddress(v, `${at}member "a"`);
    else m.n = readGroupName(v, `${at}member "n"`);
    count++;
  }
  if (count === 0) {
    throw new GroupJsonError(`${at}a group membership needs "a", "n" or both (RFC 7390 §2.6.2.1)`);
  }
  // Rebuilt so that the result always has the key order n, a, whatever the text had.
  return { ...(m.n && { n: m.n }), ...(m.a && { a: m.a }) };
}

/**
 * Parses one group membership object, the body of POST /{+gp} and PUT /{+gp}/{index}
 * (RFC 7390 §2.6.2.2, §2.6.2.7).
 *
 * @example
 * ```ts
 * parseMembership('{"n":"coap-test","a":"224.0.1.187:56789"}');
 * // { n: { host: 'coap-test', port: undefined }, a: { address: '224.0.1.187', family: 4, port: 56789 } }
 * ```
 * @throws GroupJsonError saying what is wrong and where.
 */
export function parseMembership(payload: Buffer | string): Membership {
  return readMembership(readJson(payload).value, '');
}

/** Two keys that differ only in case name one index: the collection would be ambiguous. */
function sameIndex(key: string, earlier: string): GroupJsonError {
  return new GroupJsonError(
    `index ${quote(key)} is the same index as ${quote(earlier)}; indexes are case-insensitive (RFC 7390 §2.6.2.2)`,
  );
}

/**
 * Parses a whole collection, the body of PUT /{+gp} (RFC 7390 §2.6.2.6). `{}` is valid and
 * empty. Indexes come back lower case, in document order.
 *
 * @throws GroupJsonError for an invalid index, two indexes equal but for case, or a bad membership.
 */
export function parseCollection(payload: Buffer | string): MembershipCollection {
  const { value, keys } = readJson(payload);
  if (!isJsonObject(value)) {
    throw new GroupJsonError(`a group membership collection must be a JSON object, not ${jsonKind(value)}`);
  }
  // Implied by the index space, but checked first so a huge body fails with one clear message.
  if (keys.length > INDEX_SPACE_SIZE) {
    throw new GroupJsonError(
      `${keys.length} memberships; there are only ${INDEX_SPACE_SIZE} possible indexes`,
    );
  }
  const out: MembershipCollection = new Map();
  const spelled = new Map<string, string>(); // normal form -> key as written, for the message
  for (const key of keys) {
    if (!isValidIndex(key)) {
      throw new GroupJsonError(
        `index ${quote(key)} is not 1 or 2 ASCII letters or digits (RFC 7390 §2.6.2.2)`,
      );
    }
    const index = normaliseIndex(key);
    const earlier = spelled.get(index);
    if (earlier !== undefined) throw sameIndex(key, earlier);
    spelled.set(index, key);
    out.set(index, readMembership(value[key], `index ${quote(key)}`));
  }
  return out;
}

function writeMembership(m: Membership, where: string): string {
  const at = where === '' ? '' : `${where}: `;
  if (typeof m !== 'object' || m === null) throw new GroupJsonError(`${at}the membership is not an object`);
  const parts: string[] = [];
  if (m.n !== undefined) parts.push(`"n":${JSON.stringify(writeGroupName(m.n, `${at}member "n"`))}`);
  if (m.a !== undefined) parts.push(`"a":${JSON.stringify(writeGroupAddress(m.a, `${at}member "a"`))}`);
  if (parts.length === 0) {
    throw new GroupJsonError(`${at}a group membership needs "a", "n" or both (RFC 7390 §2.6.2.1)`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Writes one membership object, compactly, keys in the order n, a; IPv6 in RFC 5952 form in
 * brackets (R44); a port only when one is set. The answer to GET /{+gp}/{index} (RFC 7390 §2.6.2.5).
 *
 * @example
 * ```ts
 * formatMembership({ a: { address: 'ff15::1', family: 6, port: 4567 } }); // '{"a":"[ff15::1]:4567"}'
 * ```
 * @throws GroupJsonError when the membership has neither key or a value that cannot be written.
 */
export function formatMembership(m: Membership): string {
  return writeMembership(m, '');
}

/**
 * Writes a collection, the answer to GET /{+gp} (RFC 7390 §2.6.2.4): `{}` when empty, otherwise
 * index to membership in insertion order, indexes lower case.
 *
 * @throws GroupJsonError for an invalid index, two indexes equal but for case, or a bad membership.
 */
export function formatCollection(c: MembershipCollection): string {
  const spelled = new Map<string, string>();
  const parts: string[] = [];
  for (const [key, m] of c) {
    if (!isValidIndex(key)) {
      throw new GroupJsonError(
        `index ${quote(String(key))} is not 1 or 2 ASCII letters or digits (RFC 7390 §2.6.2.2)`,
      );
    }
    const index = normaliseIndex(key);
    const earlier = spelled.get(index);
    if (earlier !== undefined) throw sameIndex(key, earlier);
    spelled.set(index, key);
    parts.push(`${JSON.stringify(index)}:${writeMembership(m, `index ${quote(key)}`)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The UDP port a membership listens on. RFC 7390 §2.6.2.2 uses "a" whenever it is given and
 * "n" only without it, so with "a" present its port counts, or 5683 when it has none (the
 * §2.6.2.7 example: dropping ":4567" from "a" means 5683), and a port on "n" is then not used.
 * With only "n", its port, else 5683 (R36; DNS SRV/DNS-SD lookup is the caller's business).
 */
export function membershipPort(m: Membership): number {
  if (m.a !== undefined) return m.a.port ?? COAP_PORT;
  return m.n?.port ?? COAP_PORT;
}
