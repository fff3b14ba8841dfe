/**
 * @module oscore/group/credential
 * Authentication credentials as CWT Claims Sets (CCS, RFC 8392 §3) holding an OKP COSE_Key
 * (RFC 9052 §7, RFC 9053 §7.2) or an EC2 P-256 one (RFC 9053 §7.1.1, for ES256 groups, draft
 * §2.1.8) in the 'cnf' claim (RFC 8747 §3.1): the format
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
const KEY_ALG = 3;
const KEY_CRV = -1;
const KEY_X = -2;
const KEY_Y = -3;
const KTY_OKP = 1;
const KTY_EC2 = 2;

/** The signature algorithms a credential's key is for (RFC 9053 §2.1 ES256, §2.2 EdDSA). */
const ALG_ES256 = -7;
const ALG_EDDSA = -8;

/** OKP curves (RFC 9053 §7.1). */
export const OkpCurve = Object.freeze({ X25519: 4, Ed25519: 6 } as const);
export type OkpCurve = (typeof OkpCurve)[keyof typeof OkpCurve];
/** EC2 curves (RFC 9053 §7.1): P-256 only. */
export const Ec2Curve = Object.freeze({ P256: 1 } as const);
export type Ec2Curve = (typeof Ec2Curve)[keyof typeof Ec2Curve];

/** What a credential says about its public key. */
export interface CredentialKey {
  /** COSE key type: 1 (OKP) or 2 (EC2). */
  readonly kty: 1 | 2;
  readonly curve: OkpCurve | Ec2Curve;
  /** The raw 32-byte public key (OKP), or the 32-byte x-coordinate (EC2). */
  readonly x: Buffer;
  /** The 32-byte y-coordinate of an EC2 key. */
  readonly y?: Buffer;
  /** The key as a node:crypto object. */
  readonly publicKey: KeyObject;
}

function coseKeyOf(key: KeyObject): Map<CborValue, CborValue> {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string') {
    return new Map<CborValue, CborValue>([
      [KEY_KTY, KTY_EC2],
      [KEY_ALG, ALG_ES256],
      [KEY_CRV, Ec2Curve.P256],
      [KEY_X, Buffer.from(jwk.x, 'base64url')],
      [KEY_Y, Buffer.from(jwk.y, 'base64url')],
    ]);
  }
  if (jwk.kty !== 'OKP' || (jwk.crv !== 'Ed25519' && jwk.crv !== 'X25519') || typeof jwk.x !== 'string') {
    throw new InvalidArgumentError('only Ed25519, X25519 and P-256 keys are supported');
  }
  const ed = jwk.crv === 'Ed25519';
  return new Map<CborValue, CborValue>([
    [KEY_KTY, KTY_OKP],
    // An X25519 key is for key agreement only: no signature algorithm to name.
    ...(ed ? [[KEY_ALG, ALG_EDDSA] as [CborValue, CborValue]] : []),
    [KEY_CRV, ed ? OkpCurve.Ed25519 : OkpCurve.X25519],
    [KEY_X, Buffer.from(jwk.x, 'base64url')],
  ]);
}

/**
 * Builds a CCS credential `{2: subject, 8: {1: {1: 1, 3: -8, -1: 6, -2: x}}}` in deterministic
 * CBOR for an Ed25519 key; for a P-256 key the COSE_Key is `{1: 2, 3: -7, -1: 1, -2: x, -3: y}`
 * (RFC 9053 §7.1.1). The COSE_Key names its algorithm (`alg`, 3: EdDSA -8 or ES256 -7, RFC 9053
 * §2.2, §2.1): RFC 9052 §7.1 makes it optional, but implementations such as aiocoap refuse a key
 * without it. An X25519 key gets none. Credentials without `alg` are read all the same.
 * @example ccsCredential('client', generateKeyPairSync('ed25519').publicKey)
 */
export function ccsCredential(subject: string, publicKey: KeyObject): Buffer {
  const coseKey = coseKeyOf(publicKey);
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

function coordinate(coseKey: CborValue, label: number, name: string): Buffer {
  const v = field(coseKey, label);
  if (!(v instanceof Uint8Array) || v.length !== 32) bad(`'${name}' is not a 32-byte string`);
  return Buffer.from(v);
}

/** An EC2 P-256 key; a compressed point (y a boolean) is refused (RFC 9053 §7.1.1 allows it). */
function ec2Key(coseKey: CborValue): CredentialKey {
  const crv = field(coseKey, KEY_CRV);
  if (crv !== Ec2Curve.P256) bad(`EC2 curve ${String(crv)} is not supported`);
  const x = coordinate(coseKey, KEY_X, 'x');
  const y = coordinate(coseKey, KEY_Y, 'y');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    return bad('the EC2 key is not a point on P-256');
  }
  return { kty: KTY_EC2, curve: Ec2Curve.P256, x, y, publicKey };
}

/**
 * Reads the public key out of a CCS credential.
 * @throws OscoreError `ERR_OSCORE_FORMAT` if it is not a CCS with an OKP Ed25519/X25519 or an
 *   EC2 P-256 key, `ERR_OSCORE_CBOR` if it is not CBOR this codec reads.
 */
export function credentialKey(credential: Buffer): CredentialKey {
  const coseKey = field(field(decodeCbor(credential), CLAIM_CNF), CNF_COSE_KEY);
  const kty = field(coseKey, KEY_KTY);
  if (kty === KTY_EC2) return ec2Key(coseKey);
  if (kty !== KTY_OKP) bad('the COSE_Key is neither OKP nor EC2');
  const crv = field(coseKey, KEY_CRV);
  const x = field(coseKey, KEY_X);
  if (crv !== OkpCurve.Ed25519 && crv !== OkpCurve.X25519) bad(`curve ${String(crv)} is not supported`);
  if (!(x instanceof Uint8Array) || x.length !== 32) bad("'x' is not a 32-byte string");
  const raw = Buffer.from(x);
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: crv === OkpCurve.Ed25519 ? 'Ed25519' : 'X25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return { kty: KTY_OKP, curve: crv, x: raw, publicKey };
}
