/**
 * @module oscore/group/pairwise
 * Pairwise keys of Group OSCORE (draft-ietf-core-oscore-groupcomm §2.5.1): a static-static
 * X25519 shared secret (ECDH-SS + HKDF-256, COSE -27) between two members' Ed25519 keys, mapped
 * to Montgomery form (§2.5.2.1, RFC 7748 §4.1, RFC 8032 §5.1.3, §5.1.5), or between P-256 keys
 * used as is (§2.5.1: EC2 keys; the x-coordinate, NIST SP 800-56A §5.7.1.2), then HKDF with the
 * Sender/Recipient Key as salt and both credentials in the IKM.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';
import { hkdf } from '../algorithms.js';
import { deriveInfo } from '../context.js';
import { OscoreError } from '../errors.js';

const P = 2n ** 255n - 19n;
/** DER of PrivateKeyInfo { version 0, id-X25519 (1.3.101.110), OCTET STRING { OCTET STRING (32) } }. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function littleEndian(bytes: Buffer): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function toLittleEndian(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * The X25519 u-coordinate of an Ed25519 public key: u = (1 + y) / (1 - y) mod p (RFC 7748 §4.1).
 * Public data, so variable time is fine (the draft's Cryptographic Considerations).
 * @throws OscoreError `ERR_OSCORE_FORMAT` for a y that does not decode or is 1 or -1 mod p,
 *   where the map is undefined or degenerate (draft §2.5.2.1).
 */
export function ed25519PublicToX25519(edPublic: Buffer): Buffer {
  if (edPublic.length !== 32) throw new OscoreError('ERR_OSCORE_FORMAT', 'an Ed25519 public key is 32 bytes');
  const masked = Buffer.from(edPublic);
  masked[31]! &= 0x7f; // RFC 8032 §5.1.3: the top bit is the sign of x, not part of y
  const y = littleEndian(masked);
  if (y >= P) throw new OscoreError('ERR_OSCORE_FORMAT', 'Ed25519 public key y is not reduced mod p');
  if (y === 1n || y === P - 1n)
    throw new OscoreError('ERR_OSCORE_FORMAT', 'Ed25519 public key y is 1 or -1 mod p');
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  return toLittleEndian(u);
}

/**
 * The X25519 private scalar of an Ed25519 private key: the lower 32 bytes of SHA-512(seed)
 * (RFC 8032 §5.1.5 step 1). X25519 clamps it exactly as Ed25519 prunes it.
 */
export function ed25519PrivateToX25519(edPrivate: KeyObject): KeyObject {
  const jwk = edPrivate.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') {
    throw new InvalidArgumentError('expected an Ed25519 private key');
  }
  const scalar = createHash('sha512').update(Buffer.from(jwk.d, 'base64url')).digest().subarray(0, 32);
  // A PKCS #8 X25519 key (RFC 8410 §7) around the raw scalar; node:crypto derives the public half.
  return createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, scalar]),
    format: 'der',
    type: 'pkcs8',
  });
}

/**
 * The static-static shared secret between our Ed25519 (or X25519) private key and the peer's
 * Ed25519 (or X25519) public key (draft §2.5.1: cofactor Diffie-Hellman, here X25519).
 * @throws OscoreError `ERR_OSCORE_FORMAT` for an all-zero result (a low-order peer key).
 */
export function sharedSecret(
  ownPrivate: KeyObject,
  peerPublic: Buffer,
  peerCurve: 'Ed25519' | 'X25519',
): Buffer {
  const priv = ownPrivate.asymmetricKeyType === 'ed25519' ? ed25519PrivateToX25519(ownPrivate) : ownPrivate;
  const u = peerCurve === 'Ed25519' ? ed25519PublicToX25519(peerPublic) : peerPublic;
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: u.toString('base64url') },
    format: 'jwk',
  });
  const secret = diffieHellman({ privateKey: priv, publicKey });
  if (secret.every((b) => b === 0))
    throw new OscoreError('ERR_OSCORE_FORMAT', 'degenerate X25519 shared secret');
  return secret;
}

/**
 * The static-static ECDH shared secret on P-256 (ES256 groups, draft §2.5.1): the 32-byte
 * x-coordinate of the product point. P-256 has cofactor 1, so cofactor DH is plain ECDH; the
 * peer's point was validated when its credential was read.
 * @throws InvalidArgumentError when either key is not a P-256 key.
 */
export function sharedSecretP256(ownPrivate: KeyObject, peerPublic: KeyObject): Buffer {
  for (const k of [ownPrivate, peerPublic]) {
    if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new InvalidArgumentError('expected P-256 keys');
  }
  return diffieHellman({ privateKey: ownPrivate, publicKey: peerPublic });
}

/** Inputs of `derivePairwiseKeys`. */
export interface PairwiseKeyInput {
  readonly senderKey: Buffer;
  readonly recipientKey: Buffer;
  readonly senderId: Buffer;
  readonly recipientId: Buffer;
  readonly idContext: Buffer;
  readonly senderCredential: Buffer;
  readonly recipientCredential: Buffer;
  readonly sharedSecret: Buffer;
  /** The AEAD Algorithm of the Common Context and its key length. */
  readonly aeadAlgorithm: number;
  readonly keyLength: number;
}

/**
 * Pairwise Sender Key = HKDF(Sender Key, Sender Cred | Recipient Cred | Shared Secret, info, L);
 * Pairwise Recipient Key = HKDF(Recipient Key, Recipient Cred | Sender Cred | Shared Secret, info, L)
 * (draft §2.5.1). `info` is RFC 8613 §3.2.1's, with the Sender resp. Recipient ID as 'id'.
 */
export function derivePairwiseKeys(k: PairwiseKeyInput): { sender: Buffer; recipient: Buffer } {
  const ikmSender = Buffer.concat([k.senderCredential, k.recipientCredential, k.sharedSecret]);
  const ikmRecipient = Buffer.concat([k.recipientCredential, k.senderCredential, k.sharedSecret]);
  const infoS = deriveInfo(k.senderId, k.idContext, k.aeadAlgorithm, 'Key', k.keyLength);
  const infoR = deriveInfo(k.recipientId, k.idContext, k.aeadAlgorithm, 'Key', k.keyLength);
  return {
    sender: hkdf('sha256', ikmSender, k.senderKey, infoS, k.keyLength),
    recipient: hkdf('sha256', ikmRecipient, k.recipientKey, infoR, k.keyLength),
  };
}
