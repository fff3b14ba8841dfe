/**
 * @module oscore/endpoint/config-fields
 * Reading the fields of a key-material file (docs/security.md) strictly: each reader names the
 * field's JSON path in its `OscoreConfigError` and says what was expected, and never echoes the
 * value, which may be a secret. Byte strings are hex, or base64 after a `base64:` prefix; IDs
 * are hex only (RFC 8613 §3.1 IDs are byte strings, usually one or two bytes).
 */
import { createECDH, createPrivateKey, createPublicKey, ECDH, type KeyObject } from 'node:crypto';
import { parseUri } from '../../uri/index.js';
import { ipFamily } from '../../util/ip.js';
import { OscoreConfigError } from './errors.js';
import type { Destination } from './keyring.js';

/** A JSON object being read, and its path for error messages. */
export interface Obj {
  readonly value: Record<string, unknown>;
  readonly path: string;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** PKCS #8 prefix of an Ed25519 private key (RFC 8410 §7), before its 32-byte seed. */
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SubjectPublicKeyInfo prefix of an Ed25519 public key (RFC 8410 §4), before its 32 bytes. */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

export function fieldPath(parent: string, key: string | number): string {
  return typeof key === 'number' ? `${parent}[${key}]` : parent === '' ? key : `${parent}.${key}`;
}

export function asObject(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OscoreConfigError(path, 'must be a JSON object');
  return { value: value as Record<string, unknown>, path };
}

/** Refuses fields the format does not define, so a typo is not silently ignored. */
export function onlyKeys(o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o.value)) {
    if (!allowed.includes(k))
      throw new OscoreConfigError(fieldPath(o.path, k), `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

export function optionalArray(o: Obj, key: string): unknown[] {
  const v = o.value[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new OscoreConfigError(fieldPath(o.path, key), 'must be an array');
  return v;
}

export function optionalString(o: Obj, key: string): string | undefined {
  const v = o.value[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OscoreConfigError(fieldPath(o.path, key), 'must be a string');
  return v;
}

function requiredString(o: Obj, key: string): string {
  const v = optionalString(o, key);
  if (v === undefined) throw new OscoreConfigError(fieldPath(o.path, key), 'is missing');
  return v;
}

/** Hex, or base64 after `base64:`. */
export function bytes(o: Obj, key: string, required: true, sizes?: readonly number[]): Buffer;
export function bytes(o: Obj, key: string, required: false, sizes?: readonly number[]): Buffer | undefined;
export function bytes(o: Obj, key: string, required: boolean, sizes?: readonly number[]): Buffer | undefined {
  const text = required ? requiredString(o, key) : optionalString(o, key);
  if (text === undefined) return undefined;
  const path = fieldPath(o.path, key);
  let out: Buffer;
  if (text.startsWith('base64:')) {
    const b64 = text.slice(7);
    if (!BASE64.test(b64)) throw new OscoreConfigError(path, 'is not valid base64 after "base64:"');
    out = Buffer.from(b64, 'base64');
  } else {
    if (!HEX.test(text))
      throw new OscoreConfigError(path, 'must be hex digits in pairs, or base64 after "base64:"');
    out = Buffer.from(text, 'hex');
  }
  if (sizes !== undefined && !sizes.includes(out.length))
    throw new OscoreConfigError(path, `must be ${sizes.join(' or ')} bytes, not ${out.length}`);
  return out;
}

/** An ID: hex only, possibly empty (RFC 8613 §3.3), at most 7 bytes with AES-CCM-16-64-128. */
export function id(o: Obj, key: string, required = true): Buffer | undefined {
  const text = required ? requiredString(o, key) : optionalString(o, key);
  if (text === undefined) return undefined;
  const path = fieldPath(o.path, key);
  if (!HEX.test(text)) throw new OscoreConfigError(path, 'must be hex digits in pairs ("" for the empty ID)');
  const b = Buffer.from(text, 'hex');
  if (b.length > 7) throw new OscoreConfigError(path, `must be at most 7 bytes, not ${b.length}`);
  return b;
}

export function optionalInteger(o: Obj, key: string, min: number, max: number): number | undefined {
  const v = o.value[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new OscoreConfigError(fieldPath(o.path, key), `must be an integer from ${min} to ${max}`);
  return v;
}

/** A `coap://host:port` URI or `host[:port]` whose host is an IP literal. */
export function destination(text: unknown, path: string, defaultPort: number | undefined): Destination {
  if (typeof text !== 'string') throw new OscoreConfigError(path, 'must be a string');
  let host: string;
  let port: number | undefined;
  try {
    const withScheme = text.includes('://') ? text : `coap://${ipFamily(text) === 6 ? `[${text}]` : text}`;
    const u = parseUri(withScheme);
    host = u.host;
    port = u.explicitPort ? u.port : defaultPort;
  } catch {
    throw new OscoreConfigError(path, 'must be coap://ADDRESS[:PORT] or ADDRESS[:PORT]');
  }
  if (ipFamily(host) === 0) throw new OscoreConfigError(path, 'the host must be an IP address');
  return port === undefined ? { address: host } : { address: host, port };
}

/** A group's Signature Algorithm: -8 (EdDSA, Ed25519 keys; the default) or -7 (ES256, P-256 keys). */
export type KeyAlgorithm = -8 | -7;

/** The `signatureAlgorithm` of a group entry (draft §2.1.8), default -8. */
export function signatureAlgorithm(o: Obj, key: string): KeyAlgorithm {
  const v = o.value[key];
  if (v === undefined) return -8;
  if (v !== -8 && v !== -7)
    throw new OscoreConfigError(fieldPath(o.path, key), 'must be -8 (EdDSA) or -7 (ES256)');
  return v;
}

/** A P-256 public key as a JWK from its SEC 1 point (uncompressed 65 or compressed 33 bytes). */
function p256Jwk(point: Buffer): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  const full = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer;
  return {
    kty: 'EC',
    crv: 'P-256',
    x: full.subarray(1, 33).toString('base64url'),
    y: full.subarray(33).toString('base64url'),
  };
}

/**
 * The own private key: an Ed25519 32-byte seed (RFC 8032 §5.1.5), or with ES256 a 32-byte
 * P-256 private scalar (SEC 1 §2.3.6), between 1 and n-1.
 */
export function privateKey(o: Obj, key: string, alg: KeyAlgorithm = -8): KeyObject {
  const seed = bytes(o, key, true, [32]);
  if (alg === -7) {
    try {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(seed);
      const jwk = { ...p256Jwk(ecdh.getPublicKey()), d: seed.toString('base64url') };
      return createPrivateKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new OscoreConfigError(fieldPath(o.path, key), 'is not a P-256 private key (1 to n-1)');
    }
  }
  try {
    return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
  } catch {
    throw new OscoreConfigError(fieldPath(o.path, key), 'is not an Ed25519 private key seed');
  }
}

/**
 * A member's public key: 32 raw Ed25519 bytes (RFC 8032 §5.1.5), or with ES256 a P-256 point,
 * uncompressed (65 bytes) or compressed (33 bytes) (SEC 1 §2.3.3), which must be on the curve.
 */
export function publicKey(o: Obj, key: string, alg: KeyAlgorithm = -8): KeyObject {
  if (alg === -7) {
    const point = bytes(o, key, true, [65, 33]);
    try {
      return createPublicKey({ key: p256Jwk(point), format: 'jwk' });
    } catch {
      throw new OscoreConfigError(fieldPath(o.path, key), 'is not a P-256 public key (SEC 1 point)');
    }
  }
  const raw = bytes(o, key, true, [32]);
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new OscoreConfigError(fieldPath(o.path, key), 'is not an Ed25519 public key');
  }
}

/**
 * The raw 32 bytes of an Ed25519 key, or the uncompressed 65-byte point (04 || x || y) of a
 * P-256 key (the public part of a private key).
 */
export function rawPublicKey(key: KeyObject): Buffer {
  const k = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = k.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x as string, 'base64url');
  if (jwk.kty !== 'EC') return x;
  return Buffer.concat([Buffer.from([4]), x, Buffer.from(jwk.y as string, 'base64url')]);
}

/** The raw 32-byte seed of an Ed25519 private key, or the 32-byte scalar of a P-256 one. */
export function rawPrivateKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url');
}
