/**
 * @module cbor
 * A small deterministic CBOR codec (RFC 8949 §4.2.1) shared by OSCORE (COSE structures) and the
 * CRIs of the group proxy options (draft-ietf-core-href §5.1).
 */
export {
  CborSimple,
  type CborValue,
  decodeCbor,
  decodeCborSequence,
  encodeCbor,
  encodeCborWrapped,
} from './codec.js';
export { CborError } from './error.js';
