/**
 * @module server/suppression
 * Which responses to a request are not sent (RFC 7390 §2.7, RFC 7252 §8.2, RFC 7967 §2):
 * per-resource switches for 2.xx, 4.xx, 5.xx and empty 2.05 apply to multicast requests, and the
 * client's No-Response option overrides them in both directions, for unicast and multicast.
 */
import { Code } from '../message/codes.js';

/** Independent switches (RFC 7390 §2.7: "suppress all 2.xx / 4.xx / 5.xx / 2.05 with empty payload"). */
export interface SuppressionPolicy {
  readonly success: boolean;
  readonly clientError: boolean;
  readonly serverError: boolean;
  readonly emptyContent: boolean;
}

/** design.md defaults: errors and empty 2.05 are suppressed for multicast, successes are sent. */
export const DEFAULT_SUPPRESSION: SuppressionPolicy = Object.freeze({
  success: false,
  clientError: true,
  serverError: true,
  emptyContent: true,
});

/** Nothing suppressed: for an answer that is no error report, such as a challenge (only No-Response applies). */
export const NOTHING_SUPPRESSED: SuppressionPolicy = Object.freeze({
  success: false,
  clientError: false,
  serverError: false,
  emptyContent: false,
});

/**
 * True when the response must not be sent.
 * @param noResponse the request's No-Response value, or undefined when absent.
 */
export function isSuppressed(
  code: number,
  payloadLength: number,
  multicast: boolean,
  policy: SuppressionPolicy,
  noResponse: number | undefined,
): boolean {
  const cls = code >> 5;
  if (noResponse !== undefined) {
    // RFC 7967 §2.1: a disclaimed class is not sent; any other class MUST be sent, overriding
    // the server's default suppression (RFC 7967 §2, "MUST override").
    return cls >= 1 && cls <= 8 && (noResponse & (1 << (cls - 1))) !== 0;
  }
  if (!multicast) return false;
  if (cls === 2)
    return policy.success || (policy.emptyContent && code === Code.Content && payloadLength === 0);
  if (cls === 4) return policy.clientError;
  if (cls === 5) return policy.serverError;
  return false;
}
