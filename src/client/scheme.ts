/**
 * @module client/scheme
 * The schemes a request may use. This client sends CoAP over UDP only (RFC 7252 §6.1, `coap`):
 * there is no DTLS (`coaps`, RFC 7252 §6.2, §9) and no TCP, TLS or WebSocket transport
 * (`coap+tcp`, `coaps+tcp`, `coap+ws`, `coaps+ws`, RFC 8323 §8). A URI with one of those
 * schemes is refused before its host is resolved, so that nothing meant for a secure channel
 * ever leaves as plain UDP. Groups keep their own code for `coaps` (RFC 7390 §5.1, group-policy).
 */
import { UnsupportedSchemeError } from '../errors.js';
import { type CoapUri, formatUri, parseUri } from '../uri/index.js';

/** The transports the other CoAP schemes need (RFC 7252 §6.2; RFC 8323 §8.1, §8.2). */
const MISSING_TRANSPORT: ReadonlyMap<string, string> = new Map([
  ['coaps', 'DTLS (RFC 7252 §9)'],
  ['coap+tcp', 'TCP (RFC 8323)'],
  ['coaps+tcp', 'TLS over TCP (RFC 8323)'],
  ['coap+ws', 'WebSockets (RFC 8323)'],
  ['coaps+ws', 'WebSockets over TLS (RFC 8323)'],
]);

/** RFC 3986 §3.1. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Parses the target of a request and refuses a scheme this client cannot send over, before
 * anything else (no name is resolved). With `group: true`, `coaps` is left to the group checks,
 * which refuse it with `ERR_COAP_GROUP_SECURE_SCHEME` (RFC 7390 §5.1).
 *
 * @example
 * ```ts
 * parseRequestUri('coap://127.0.0.1/light').port; // 5683
 * parseRequestUri('coaps://127.0.0.1/light');      // throws ERR_COAP_UNSUPPORTED_SCHEME
 * ```
 * @throws UnsupportedSchemeError (`ERR_COAP_UNSUPPORTED_SCHEME`) for `coaps`, `coap+tcp`,
 *   `coaps+tcp`, `coap+ws` and `coaps+ws`; InvalidUriError for a URI that is not `coap`.
 */
export function parseRequestUri(uri: string | CoapUri, options: { group?: boolean } = {}): CoapUri {
  const scheme = typeof uri === 'string' ? (SCHEME.exec(uri)?.[1]?.toLowerCase() ?? '') : uri.scheme;
  const transport = MISSING_TRANSPORT.get(scheme);
  if (transport !== undefined && !(options.group === true && scheme === 'coaps')) {
    throw new UnsupportedSchemeError(typeof uri === 'string' ? uri : formatUri(uri), scheme, transport);
  }
  return typeof uri === 'string' ? parseUri(uri) : uri;
}
