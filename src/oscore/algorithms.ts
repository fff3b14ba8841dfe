/**
 * @module oscore/algorithms
 * The AEAD and HKDF algorithms OSCORE uses, from `node:crypto` only (RFC 8613 §3.2, §5, §12.6;
 * COSE algorithm numbers from RFC 9053 §4.2). AES-CCM-16-64-128 (COSE 10) is mandatory to
 * implement and the default; HKDF SHA-256 likewise (RFC 8613 §3.2.1).
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { OscoreError } from './errors.js';

/** COSE AEAD algorithm numbers supported here. */
export const AeadAlgorithm = Object.freeze({
  /** AES-CCM-16-64-128: 16-byte key, 13-byte nonce, 8-byte tag (RFC 9053 §4.2). */
  AES_CCM_16_64_128: 10,
} as const);
export type AeadAlgorithm = (typeof AeadAlgorithm)[keyof typeof AeadAlgorithm];

/** Sizes of one AEAD algorithm. */
export interface AeadParameters {
  readonly alg: AeadAlgorithm;
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /** The node:crypto cipher name. */
  readonly cipher: 'aes-128-ccm';
}

const AEADS: ReadonlyMap<number, AeadParameters> = new Map([
  [
    10,
    Object.freeze({
      alg: 10 as const,
      keyLength: 16,
      nonceLength: 13,
      tagLength: 8,
      cipher: 'aes-128-ccm' as const,
    }),
  ],
]);

/** The sizes of a supported AEAD algorithm. @throws InvalidArgumentError for any other. */
export function aeadParameters(alg: number): AeadParameters {
  const p = AEADS.get(alg);
  if (p === undefined)
    throw new InvalidArgumentError(`AEAD algorithm ${alg} is not supported (only 10, AES-CCM-16-64-128)`);
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
  const c = createCipheriv(p.cipher, key, nonce, { authTagLength: p.tagLength });
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
    const d = createDecipheriv(p.cipher, key, nonce, { authTagLength: p.tagLength });
    d.setAuthTag(ciphertext.subarray(bodyLength));
    d.setAAD(aad, { plaintextLength: bodyLength });
    const plain = d.update(ciphertext.subarray(0, bodyLength));
    // For CCM, node:crypto verifies the tag here; final() throws when it did not verify.
    d.final();
    return plain;
  } catch (cause) {
    throw new OscoreError('ERR_OSCORE_DECRYPT', 'AEAD decryption failed', { cause });
  }
}
