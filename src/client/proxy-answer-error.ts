/**
 * @module client/proxy-answer-error
 * A group request through a proxy that the proxy answered itself, without relaying any member's
 * response (draft-ietf-core-groupcomm-proxy §5.2.1, §7.3; RFC 7390 §2.9): its answer carries no
 * Reply-From. The proxy refused (4.00, 4.01, 5.01, 5.03, 5.05, ...), or it revalidated a set of
 * responses (2.03 with Group-ETag) that this client no longer holds.
 */
import { CoapError } from '../errors.js';
import type { Address } from '../transport/types.js';
import type { CoapResponse } from './response.js';

/** What each refusal means for a group request, in the proxy's terms. */
const MEANING: Readonly<Record<string, string>> = {
  '4.00': 'it found the request malformed (a proxy asks for Multicast-Timeout with 4.00)',
  '4.01': 'this client is not allow-listed for group requests to that group (groupcomm-proxy §5.2.1 step 2)',
  '4.02': 'it does not know an unsafe option of the request',
  '5.01': 'it does not forward group requests (RFC 7390 §2.9)',
  '5.03': 'it is over its limits; try again after Max-Age',
  '5.05': 'it cannot proxy that URI',
  '2.03': 'it revalidated a set of responses that this client does not hold',
};

/**
 * The proxy answered a group request itself (code `ERR_COAP_PROXY_ANSWER`): `response` is its
 * answer (code, diagnostic payload, Max-Age), `proxy` where it came from. The group request's
 * iteration throws it, and its summary says `reason: 'refused'`.
 *
 * @example
 * try {
 *   for await (const r of client.group({ uri: 'coap://224.0.1.187/light', proxy: 'coap://192.0.2.50' }))
 *     console.log(r.source.address, r.text());
 * } catch (err) {
 *   if (err instanceof ProxyAnswerError && err.response.codeString === '5.03')
 *     console.log(`the proxy is busy: again in ${err.response.maxAge} s`);
 * }
 */
export class ProxyAnswerError extends CoapError {
  /** The proxy's own answer. */
  readonly response: CoapResponse;
  /** The proxy's endpoint. */
  readonly proxy: Address;

  constructor(response: CoapResponse, proxy: Address) {
    const diag = response.text();
    const meaning = MEANING[response.codeString];
    super(
      'ERR_COAP_PROXY_ANSWER',
      `the proxy ${proxy.address}:${proxy.port} answered ${response.codeString} ${response.reason} itself` +
        `${meaning !== undefined ? `: ${meaning}` : ''}${diag ? ` ("${diag}")` : ''}`,
    );
    this.response = response;
    this.proxy = { address: proxy.address, port: proxy.port };
  }
}
