/**
 * @module entry/common
 * What the client and server entry points both give (coap-group/client, coap-group/server, and
 * so the package's root): the typed errors, the RFC constants, method and response codes
 * (RFC 7252 §12.1), the option numbers and Content-Formats (§12.2, §12.3), how to find an
 * option in a message, and a one-line description of a message for logs.
 */
export * from '../constants.js';
export * from '../errors.js';
export {
  Code,
  codeToString,
  Method,
  type MethodName,
  methodName,
  parseCode,
  reasonPhrase,
} from '../message/codes.js';
export { describeMessage } from '../message/describe.js';
export { type CoapMessage, type CoapOption, MessageType } from '../message/types.js';
export { ContentFormat, isTextFormat, mediaTypeOf, parseContentFormat } from '../options/content-format.js';
export { Opt } from '../options/registry.js';
export { findOption, findOptions } from '../options/values.js';
export type { Address } from '../transport/types.js';
export { isMulticast } from '../util/ip.js';
