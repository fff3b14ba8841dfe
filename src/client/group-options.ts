/**
 * @module client/group-options
 * What a group request takes (RFC 7390 §2.5, groupcomm-bis §3, groupcomm-proxy §5), and the
 * check of its block size (RFC 7959 §2.8).
 */
import { sizeToSzx } from '../block/index.js';
import { InvalidArgumentError } from '../errors.js';
import type { CoapUri } from '../uri/index.js';
import type { RequestOptions } from './build.js';

/** Options of a group request. */
export interface GroupRequestOptions extends RequestOptions {
  /** How long to collect responses, ms. Default: DEFAULT_LEISURE + 1 s (RFC 7252 §8.2). */
  window?: number;
  /** Stop after this many responses. */
  limit?: number;
  /** Must not be true: group requests are NON (RFC 7252 §8.1). */
  confirmable?: boolean;
  /** Allow an ETag (groupcomm-bis §3.2.1 reverses RFC 7252 §8.2.1). */
  groupcommBis?: boolean;
  /** Allow scopes wider than site-local (RFC 7390 §5.4.2). */
  allowWideScope?: boolean;
  /**
   * Observe every member (groupcomm-bis §3.7): notifications are yielded, tagged with their
   * source, until the signal aborts, the loop is left, or `window` (if given) ends; then every
   * responder is deregistered by unicast.
   */
  observe?: boolean;
  /** Ask every member for blocks of this size (16-1024); later blocks come by unicast. */
  blockSize?: number;
  /**
   * Send the request through this forward proxy (`coap://host[:port]`; groupcomm-proxy §5.1.1);
   * `false`: directly, even when the client has a default proxy. `window` then becomes the
   * Multicast-Timeout, and `confirmable` may be true (the default: the hop to the proxy is unicast).
   */
  proxy?: string | CoapUri | false;
  /**
   * The URI's host is a reverse proxy standing in for the group (groupcomm-proxy §6.2): the
   * request goes to it by unicast with Multicast-Timeout, and responses carry Reply-From.
   */
  reverseProxy?: boolean;
  /**
   * Through a proxy: keep this request's set of responses, and revalidate it next time with
   * Group-ETag (groupcomm-proxy §7.3); a 2.03 from the proxy then yields the stored set again.
   */
  revalidate?: boolean;
}

/** The SZX of a group request's `blockSize` (RFC 7959 §2.2). */
export function groupSzx(size: number): number {
  try {
    return sizeToSzx(size);
  } catch {
    throw new InvalidArgumentError(`blockSize ${size} must be a power of two from 16 to 1024`);
  }
}
