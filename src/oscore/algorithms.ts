/**
 * @module oscore/algorithms
 * The AEAD and HKDF algorithms OSCORE uses, from `node:crypto` only (RFC 8613 §3.2, §5, §12.6;
 * COSE algorithm numbers from RFC 9053 §4). AES-CCM-16-64-128 (COSE 10) is mandatory to
 * implement and the default; HKDF SHA-256 likewise (RFC 8613 §3.2.1). AES-GCM and
 * ChaCha20/Poly1305 come at no cost from node:crypto.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { OscoreError } from './errors.js';

/** COSE AEAD algorithm numbers supported here (RFC 9053 §4.1-§4.3, COSE registry). */
export const AeadAlgorithm = Object.freeze({
  /** AES-CCM-16-64-128: 16-byte key, 13-byte nonce, 8-byte tag; mandatory (RFC 8613 §12.6). */
  AES_CCM_16_64_128: 10,
  /** AES-CCM-16-64-256: 32-byte key, 13-byte nonce, 8-byte tag. */
  AES_CCM_16_64_256: 11,
  /** AES-CCM-16-128-128: 16-byte key, 13-byte nonce, 16-byte tag. */
  AES_CCM_16_128_128: 30,
  /** A128GCM: 16-byte key, 12-byte nonce, 16-byte tag. */
  A128GCM: 1,
  /** A256GCM: 32-byte key, 12-byte nonce, 16-byte tag. */
  A256GCM: 3,
  /** ChaCha20/Poly1305: 32-byte key, 12-byte nonce, 16-byte tag. */
  CHACHA20_POLY1305: 24,
} as const);
export type AeadAlgorithm = (typeof AeadAlgorithm)[keyof typeof AeadAlgorithm];

type Cipher = 'aes-128-ccm' | 'aes-256-ccm' | 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/** Sizes of one AEAD algorithm. */
export interface AeadParameters {
  readonly alg: AeadAlgorithm;
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /** The node:crypto cipher name. */
  readonly cipher: Cipher;
}

const aead = (
  alg: AeadAlgorithm,
  keyLength: number,
  nonceLength: number,
  tagLength: number,
  cipher: Cipher,
) => [alg, Object.freeze({ alg, keyLength, nonceLength, tagLength, cipher })] as const;

/** Every one of them is in node:crypto (OpenSSL), so adding them costs a table row each. */
const AEADS: ReadonlyMap<number, AeadParameters> = new Map([
  aead(10, 16, 13, 8, 'aes-128-ccm'),
  aead(11, 32, 13, 8, 'aes-256-ccm'),
  aead(30, 16, 13, 16, 'aes-128-ccm'),
  aead(1, 16, 12, 16, 'aes-128-gcm'),
  aead(3, 32, 12, 16, 'aes-256-gcm'),
  aead(24, 32, 12, 16, 'chacha20-poly1305'),
]);

/** The sizes of a supported AEAD algorithm. @throws InvalidArgumentError for any other. */
export function aeadParameters(alg: number): AeadParameters {
  const p = AEADS.get(alg);
  if (p === undefined)
    throw new InvalidArgumentError(
      `AEAD algorithm ${alg} is not supported (10, 11 and 30: AES-CCM; 1 and 3: AES-GCM; 24: ChaCha20/Poly1305)`,
    );
  return p;
}

/** HKDF algorithms (RFC 8613 §3.2.1: HMAC-based HKDF of COSE; SHA-256 mandatory). */
export type HkdfAlgorithm = 'sha256';

/**
 * RFC 5869 HKDF (extract and expand). An empty salt is what RFC 8613 §3.2.1 asks for as the
 * default; RFC 5869 turns it into HashLen zero bytes, which node:crypto does too.
 */
export function hkdf(hash: HkdfAlgorithm, ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync(hash, ikm, salt, info, length));
}

/** AEAD-encrypts; returns ciphertext with the tag appended, as COSE_Encrypt0 carries it (RFC 9052 §5.3). */
export function aeadEncrypt(
  p: AeadParameters,
  key: Buffer,
  nonce: Buffer,
  aad: Buffer,
  plaintext: Buffer,
): Buffer {
  // One typing for all: node:crypto takes authTagLength and plaintextLength for every AEAD here.
  const c = createCipheriv(p.cipher as 'aes-128-ccm', key, nonce, { authTagLength: p.tagLength });
  // CCM needs the length up front (RFC 3610); the others take it and ignore it.
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  return Buffer.concat([body, c.getAuthTag()]);
}

/**
 * AEAD-decrypts and verifies.
 * @throws OscoreError `ERR_OSCORE_DECRYPT` when the tag does not verify or the input is too short.
 */
export function aeadDecrypt(
  p: AeadParameters,
  key: Buffer,
  nonce: Buffer,
  aad: Buffer,
  ciphertext: Buffer,
): Buffer {
  if (ciphertext.length < p.tagLength) {
    throw new OscoreError(
      'ERR_OSCORE_DECRYPT',
      `ciphertext of ${ciphertext.length} bytes is shorter than the tag`,
    );
  }
  const bodyLength = ciphertext.length - p.tagLength;
  try {
    const d = createDecipheriv(p.cipher as 'aes-128-ccm', key, nonce, { authTagLength: p.tagLength });
    d.setAuthTag(ciphertext.subarray(bodyLength));
    d.setAAD(aad, { plaintextLength: bodyLength });
    const plain = d.update(ciphertext.subarray(0, bodyLength));
    // final() throws when the tag did not verify (CCM checks it already in update()).
    d.final();
    return plain;
  } catch (cause) {
    throw new OscoreError('ERR_OSCORE_DECRYPT', 'AEAD decryption failed', { cause });
  }
}
