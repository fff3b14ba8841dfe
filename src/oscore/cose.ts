/**
 * @module oscore/cose
 * The pieces of the COSE_Encrypt0 object that OSCORE computes rather than sends: the AEAD nonce
 * (RFC 8613 §5.2), the external_aad and the AAD `Enc_structure` (RFC 8613 §5.4, RFC 9052 §5.3).
 */
import { InvalidArgumentError } from '../errors.js';
import { type CborValue, encodeCbor } from './cbor.js';

const EMPTY = Buffer.alloc(0);

/** RFC 8613 §5.4: implementations of RFC 8613 set oscore_version to 1. */
export const OSCORE_VERSION = 1;

/**
 * The AEAD nonce of RFC 8613 §5.2: `S | pad | ID_PIV | pad | PIV` (ID_PIV padded to nonce length
 * minus 6 bytes, PIV to 5), XORed with the Common IV. `idPiv` is the Sender ID of the endpoint
 * that generated the Partial IV, which is why a response without a Partial IV reuses the request's
 * nonce. Group OSCORE XORs with the first `length` bytes of a possibly longer Common IV
 * (draft-ietf-core-oscore-groupcomm §3.3), hence the optional `length`.
 */
export function computeNonce(
  commonIv: Buffer,
  idPiv: Buffer,
  partialIv: Buffer,
  length = commonIv.length,
): Buffer {
  if (length < 7 || length > commonIv.length) throw new InvalidArgumentError(`nonce length ${length}`);
  const idLength = length - 6;
  if (idPiv.length > idLength)
    throw new InvalidArgumentError(`ID of ${idPiv.length} bytes; at most ${idLength}`);
  if (partialIv.length < 1 || partialIv.length > 5)
    throw new InvalidArgumentError(`Partial IV of ${partialIv.length} bytes`);
  const nonce = Buffer.alloc(length);
  nonce[0] = idPiv.length;
  idPiv.copy(nonce, 1 + idLength - idPiv.length);
  partialIv.copy(nonce, length - partialIv.length);
  for (let i = 0; i < length; i++) nonce[i]! ^= commonIv[i]!;
  return nonce;
}

/**
 * `aad_array` of RFC 8613 §5.4: `[oscore_version, [alg_aead], request_kid, request_piv, options]`.
 * `classIOptions` is the RFC 7252 §3.1 encoding of the Class I options; none are defined yet
 * (RFC 8613 §4.1.2), so it is empty.
 */
export function aadArray(
  alg: number,
  requestKid: Buffer,
  requestPiv: Buffer,
  classIOptions: Buffer = EMPTY,
): CborValue[] {
  return [OSCORE_VERSION, [alg], requestKid, requestPiv, classIOptions];
}

/**
 * `external_aad = bstr .cbor aad_array` (RFC 8613 §5.4): the bytes of the encoded aad_array. As a
 * CBOR item inside `Enc_structure` it becomes a byte string, which is the `0x49...` RFC 8613 shows.
 */
export function externalAad(aad: CborValue): Buffer {
  return encodeCbor(aad);
}

/**
 * The AAD: `Enc_structure = ["Encrypt0", h'', external_aad]` (RFC 8613 §5.4, RFC 9052 §5.3).
 * OSCORE's 'protected' bucket is always empty, hence the fixed `h''`.
 */
export function encStructure(externalAadBytes: Buffer): Buffer {
  return encodeCbor(['Encrypt0', EMPTY, externalAadBytes]);
}

/** The AAD for an OSCORE (RFC 8613) message in one call. */
export function oscoreAad(alg: number, requestKid: Buffer, requestPiv: Buffer): Buffer {
  return encStructure(externalAad(aadArray(alg, requestKid, requestPiv)));
}
