/**
 * @module oscore/group/signature
 * The COSE pieces Group OSCORE adds (draft-ietf-core-oscore-groupcomm §3, §4): the extended
 * external_aad (§3.4), the countersignature over the ciphertext (§3.1, RFC 9338 §3.2-3.3) with
 * EdDSA or ES256 (§2.1.8), and its encryption with a keystream derived from the Signature
 * Encryption Key (§4.2).
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { hkdf } from '../algorithms.js';
import { type CborValue, encodeCbor } from '../cbor.js';
import { OSCORE_VERSION } from '../cose.js';
import { OscoreError } from '../errors.js';

const EMPTY = Buffer.alloc(0);

/** The algorithms of a group's Common Context; `undefined` ones become CBOR null (draft §3.4). */
export interface GroupAlgorithms {
  readonly aead: number | undefined;
  readonly groupEncryption: number | undefined;
  readonly signature: number | undefined;
  readonly pairwiseKeyAgreement: number | undefined;
}

/** The request-side and message-side fields of the Group OSCORE aad_array (draft §3.4). */
export interface GroupAadFields {
  readonly algorithms: GroupAlgorithms;
  readonly requestKid: Buffer;
  readonly requestPiv: Buffer;
  readonly requestKidContext: Buffer;
  /** The OSCORE option value of the message being protected, final before encryption. */
  readonly oscoreOption: Buffer;
  /** The sender's credential, exactly as distributed. */
  readonly senderCredential: Buffer;
  readonly gmCredential: Buffer;
}

/**
 * `aad_array = [oscore_version, [alg_aead, alg_group_enc, alg_signature, alg_pairwise_key_agreement],
 * request_kid, request_piv, options, request_kid_context, OSCORE_option, sender_cred, gm_cred]`
 * (draft §3.4), encoded: the external_aad bytes. `options` holds the Class I options: none.
 */
export function groupExternalAad(f: GroupAadFields): Buffer {
  const a = f.algorithms;
  const algs: CborValue[] = [
    a.aead ?? null,
    a.groupEncryption ?? null,
    a.signature ?? null,
    a.pairwiseKeyAgreement ?? null,
  ];
  return encodeCbor([
    OSCORE_VERSION,
    algs,
    f.requestKid,
    f.requestPiv,
    EMPTY,
    f.requestKidContext,
    f.oscoreOption,
    f.senderCredential,
    f.gmCredential,
  ]);
}

/**
 * How the Countersign_structure is laid out: RFC 9338 §3.3 omits 'sign_protected' for
 * Countersignature0 version 2; the RFC 8152 §4.4 layout, which aiocoap and Californium build,
 * keeps it as an empty byte string. The two give different signatures over the same message.
 */
export type CountersignLayout = 'rfc9338' | 'rfc8152';

/**
 * The to-be-signed bytes: `Countersign_structure = ["CounterSignature0", h'', external_aad,
 * ciphertext]` (draft §3.1, RFC 9338 §3.3). COSE_Encrypt0 has only two byte-string fields and an
 * abbreviated countersignature has no sign_protected, so both optional fields are absent. With
 * the `'rfc8152'` layout, an empty sign_protected follows body_protected.
 */
export function countersignStructure(
  externalAad: Buffer,
  ciphertext: Buffer,
  layout: CountersignLayout = 'rfc9338',
): Buffer {
  return layout === 'rfc8152'
    ? encodeCbor(['CounterSignature0', EMPTY, EMPTY, externalAad, ciphertext])
    : encodeCbor(['CounterSignature0', EMPTY, externalAad, ciphertext]);
}

/**
 * The signature length of a key's algorithm: 64 bytes for Ed25519 (RFC 8032 §5.1.6) and for
 * ES256, whose signature is r || s, 32 bytes each (RFC 9053 §2.1).
 */
export const SIGNATURE_LENGTH = 64;

/** ES256 (P-256 keys) hashes with SHA-256 and encodes r || s (RFC 9053 §2.1); EdDSA takes no hash. */
function algorithmOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ec' ? 'sha256' : null;
}

/** Signs with EdDSA (Ed25519, RFC 8032 §5.1.6) or ES256 (P-256, RFC 9053 §2.1), by the key's type. */
export function countersign(
  privateKey: KeyObject,
  externalAad: Buffer,
  ciphertext: Buffer,
  layout: CountersignLayout = 'rfc9338',
): Buffer {
  return sign(algorithmOf(privateKey), countersignStructure(externalAad, ciphertext, layout), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
}

/**
 * Verifies an EdDSA or ES256 countersignature, by the key's type.
 * @throws OscoreError `ERR_OSCORE_SIGNATURE` when it does not verify or is not 64 bytes.
 */
export function verifyCountersignature(
  publicKey: KeyObject,
  externalAad: Buffer,
  ciphertext: Buffer,
  signature: Buffer,
  layout: CountersignLayout = 'rfc9338',
): void {
  if (signature.length !== SIGNATURE_LENGTH)
    throw new OscoreError('ERR_OSCORE_SIGNATURE', `a countersignature of ${signature.length} bytes`);
  let ok = false;
  try {
    ok = verify(
      algorithmOf(publicKey),
      countersignStructure(externalAad, ciphertext, layout),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch (cause) {
    throw new OscoreError('ERR_OSCORE_SIGNATURE', 'countersignature could not be verified', { cause });
  }
  if (!ok) throw new OscoreError('ERR_OSCORE_SIGNATURE', 'countersignature does not verify');
}

/**
 * Verifies a countersignature in either Countersign_structure layout: `preferred` (the group's
 * configured one) first and, only when that fails, the other, so that members accept messages
 * from implementations of either layout (docs/security.md). Accepting both gives a forger
 * nothing: each layout is a signature by the sender's key over the same external_aad and
 * ciphertext, and the two encodings never coincide (arrays of 4 and of 5 elements). A message
 * that verifies under neither costs two verifications.
 * @returns the layout the signature verified with.
 * @throws OscoreError `ERR_OSCORE_SIGNATURE` (the error of the preferred layout) when neither verifies.
 */
export function verifyEitherLayout(
  publicKey: KeyObject,
  externalAad: Buffer,
  ciphertext: Buffer,
  signature: Buffer,
  preferred: CountersignLayout,
): CountersignLayout {
  try {
    verifyCountersignature(publicKey, externalAad, ciphertext, signature, preferred);
    return preferred;
  } catch (first) {
    // A signature of the wrong length fails in any layout: no second verification.
    if (signature.length !== SIGNATURE_LENGTH) throw first;
    const other: CountersignLayout = preferred === 'rfc9338' ? 'rfc8152' : 'rfc9338';
    try {
      verifyCountersignature(publicKey, externalAad, ciphertext, signature, other);
    } catch {
      throw first;
    }
    return other;
  }
}

/** Inputs of the keystream (draft §4.2). */
export interface KeystreamInput {
  /** The Signature Encryption Key from the Common Context (the IKM). */
  readonly signatureEncryptionKey: Buffer;
  /** The Partial IV used to protect the message (the request's, for a response without one). */
  readonly partialIv: Buffer;
  /** Sender ID of the endpoint that generated that Partial IV. */
  readonly id: Buffer;
  /** The Gid used when protecting the message. */
  readonly idContext: Buffer;
  /** True for a request, false for a response. */
  readonly request: boolean;
  /** The signature length, 64 for Ed25519 and ES256. */
  readonly length: number;
}

/** KEYSTREAM = HKDF(salt = PIV, IKM = Signature Encryption Key, info = [id, id_context, type, L], L) (draft §4.2). */
export function countersignatureKeystream(k: KeystreamInput): Buffer {
  const info = encodeCbor([k.id, k.idContext, k.request, k.length]);
  return hkdf('sha256', k.signatureEncryptionKey, k.partialIv, info, k.length);
}

/** ENC_SIGNATURE = SIGNATURE XOR KEYSTREAM, and back (draft §4.1). */
export function xorKeystream(data: Buffer, keystream: Buffer): Buffer {
  if (data.length !== keystream.length)
    throw new OscoreError('ERR_OSCORE_FORMAT', 'countersignature length mismatch');
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ keystream[i]!;
  return out;
}

/**
 * Splits a group-mode payload into ciphertext and encrypted countersignature (draft §4.1: the
 * payload is their concatenation).
 * @throws OscoreError `ERR_OSCORE_FORMAT` when the payload cannot hold both.
 */
export function splitGroupPayload(
  payload: Buffer,
  signatureLength: number,
  tagLength: number,
): { ciphertext: Buffer; encryptedSignature: Buffer } {
  if (payload.length < signatureLength + tagLength) {
    throw new OscoreError('ERR_OSCORE_FORMAT', `group mode payload of ${payload.length} bytes is too short`);
  }
  const cut = payload.length - signatureLength;
  return { ciphertext: payload.subarray(0, cut), encryptedSignature: payload.subarray(cut) };
}
