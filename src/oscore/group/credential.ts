/**
 * @module oscore/group/credential
 * Authentication credentials as CWT Claims Sets (CCS, RFC 8392 §3) holding an OKP COSE_Key
 * (RFC 9052 §7, RFC 9053 §7.2) in the 'cnf' claim (RFC 8747 §3.1): the format
 * draft-ietf-core-oscore-groupcomm §2.4 lists first. The bytes are kept exactly as distributed,
 * since they enter the AAD and the pairwise key derivation; this module only reads the key out.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';
import { type CborValue, decodeCbor, encodeCbor } from '../cbor.js';
import { OscoreError } from '../errors.js';

/** CWT claim keys (RFC 8392 §4, RFC 8747 §3.1) and COSE_Key labels (RFC 9052 §7.1, RFC 9053 §7.2). */
const CLAIM_SUB = 2;
const CLAIM_CNF = 8;
const CNF_COSE_KEY = 1;
const KEY_KTY = 1;
const KEY_CRV = -1;
const KEY_X = -2;
const KTY_OKP = 1;

/** OKP curves (RFC 9053 §7.1). */
export const OkpCurve = Object.freeze({ X25519: 4, Ed25519: 6 } as const);
export type OkpCurve = (typeof OkpCurve)[keyof typeof OkpCurve];

/** What a credential says about its public key. */
export interface CredentialKey {
  readonly curve: OkpCurve;
  /** The raw 32-byte public key. */
  readonly x: Buffer;
  /** The key as a node:crypto object. */
  readonly publicKey: KeyObject;
}

function rawPublicKey(key: KeyObject): { crv: 'Ed25519' | 'X25519'; x: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || (jwk.crv !== 'Ed25519' && jwk.crv !== 'X25519') || typeof jwk.x !== 'string') {
    throw new InvalidArgumentError('only Ed25519 and X25519 keys are supported');
  }
  return { crv: jwk.crv, x: Buffer.from(jwk.x, 'base64url') };
}

/**
 * Builds a CCS credential `{2: subject, 8: {1: {1: 1, -1: crv, -2: x}}}` in deterministic CBOR.
 * @example ccsCredential('client', generateKeyPairSync('ed25519').publicKey)
 */
export function ccsCredential(subject: string, publicKey: KeyObject): Buffer {
  const { crv, x } = rawPublicKey(publicKey);
  const coseKey = new Map<CborValue, CborValue>([
    [KEY_KTY, KTY_OKP],
    [KEY_CRV, crv === 'Ed25519' ? OkpCurve.Ed25519 : OkpCurve.X25519],
    [KEY_X, x],
  ]);
  return encodeCbor(
    new Map<CborValue, CborValue>([
      [CLAIM_SUB, subject],
      [CLAIM_CNF, new Map<CborValue, CborValue>([[CNF_COSE_KEY, coseKey]])],
    ]),
  );
}

function bad(why: string): never {
  throw new OscoreError('ERR_OSCORE_FORMAT', `unusable authentication credential: ${why}`);
}

function field(map: CborValue, key: number): CborValue {
  if (!(map instanceof Map)) return bad('expected a map');
  return map.get(key);
}

/**
 * Reads the public key out of a CCS credential.
 * @throws OscoreError `ERR_OSCORE_FORMAT` if it is not a CCS with an OKP Ed25519/X25519 key,
 *   `ERR_OSCORE_CBOR` if it is not CBOR this codec reads.
 */
export function credentialKey(credential: Buffer): CredentialKey {
  const coseKey = field(field(decodeCbor(credential), CLAIM_CNF), CNF_COSE_KEY);
  if (field(coseKey, KEY_KTY) !== KTY_OKP) bad('the COSE_Key is not OKP');
  const crv = field(coseKey, KEY_CRV);
  const x = field(coseKey, KEY_X);
  if (crv !== OkpCurve.Ed25519 && crv !== OkpCurve.X25519) bad(`curve ${String(crv)} is not supported`);
  if (!(x instanceof Uint8Array) || x.length !== 32) bad("'x' is not a 32-byte string");
  const raw = Buffer.from(x);
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: crv === OkpCurve.Ed25519 ? 'Ed25519' : 'X25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return { curve: crv, x: raw, publicKey };
}
