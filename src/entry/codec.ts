/**
 * @module entry/codec
 * The package's `coap-group/codec` entry: the pure codecs, bytes to values and back with no I/O.
 * The CoAP message (RFC 7252 §3) and its options (§5.4, §12.2), Block1/Block2 values (RFC 7959
 * §2.2), CoAP URIs (RFC 7252 §6), the CoRE Link Format (RFC 6690), and
 * `application/coap-group+json` (RFC 7390 §2.6.2.1), deterministic CBOR (RFC 8949 §4.2.1) and
 * CRIs (draft-ietf-core-href §5.1). For tools, tests and layers that work with
 * messages themselves; an application uses the client and server instead.
 */
export * from '../block/index.js';
export * from '../cbor/index.js';
export * from '../group-json/index.js';
export * from '../link-format/index.js';
export {
  Code,
  codeToString,
  Method,
  type MethodName,
  methodName,
  parseCode,
  reasonPhrase,
} from '../message/codes.js';
export { decodeMessage } from '../message/decode.js';
export { describeMessage } from '../message/describe.js';
export { encodeMessage } from '../message/encode.js';
export { type CoapMessage, type CoapOption, MessageType } from '../message/types.js';
export { ContentFormat, isTextFormat, mediaTypeOf, parseContentFormat } from '../options/content-format.js';
export {
  isCritical,
  isNoCacheKey,
  isUnsafe,
  Opt,
  optionByName,
  optionDefinition,
} from '../options/registry.js';
export { decodeUint, encodeUint, findOption, findOptions } from '../options/values.js';
export * from '../uri/index.js';
