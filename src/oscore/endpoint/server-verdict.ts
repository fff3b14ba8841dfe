/**
 * @module oscore/endpoint/server-verdict
 * What the server side of OSCORE decides about a received request (`OscoreServerSecurity.open`):
 * route it as it is, route the verified original and protect what answers it (RFC 8613 §8.2,
 * §8.3; Group OSCORE draft §7.2, §7.3), answer with an error or a freshness challenge (RFC 9175
 * §2.4), or drop it. Also the identity a verified request carries to handlers and access
 * policies (RFC 7390 §6.2).
 */
import type { CoapMessage } from '../../message/types.js';
import type { ResponseParts } from '../../messenger/server-exchange.js';
import type { RequestSecurity } from '../../server/site.js';
import type { Address } from '../../transport/types.js';

/** Who protected a request, as OSCORE verified it (`req.security` in handlers). */
export interface OscoreRequestSecurity extends RequestSecurity {
  /** `'oscore'` for RFC 8613 unicast contexts, `'group-oscore'` for a Group OSCORE group. */
  readonly kind: 'oscore' | 'group-oscore';
  /** The requester's Sender ID ('kid'), lowercase hex; may be `''` (the empty ID). */
  readonly kid: string;
  /** The ID Context (for a group, its Group ID), lowercase hex, when the context has one. */
  readonly idContext?: string;
}

/** A verified request: the original message and how to protect what answers it. */
export interface OpenedRequest {
  /** The original request: Outer header, Outer-only options, decrypted Code, options and payload. */
  readonly request: CoapMessage;
  readonly security: OscoreRequestSecurity;
  /**
   * Protects a response (or a notification) to this request. The first response may reuse the
   * request's nonce; a notification, and with `again` any later response, gets a fresh Partial
   * IV (RFC 8613 §8.3, §4.1.3.5).
   * @throws CoapError when it cannot be protected; the response is then not sent.
   */
  seal(parts: ResponseParts, again?: boolean): ResponseParts;
}

/** What to do with a received request. */
export type SecurityVerdict =
  /** Not protected: route it as it is (a protected resource then refuses it). */
  | { readonly kind: 'plain' }
  /** Verified: route the original request; responses are sealed. */
  | { readonly kind: 'opened'; readonly opened: OpenedRequest }
  /** Not verified or not fresh: answer this (unicast only) and do not route the request. */
  | { readonly kind: 'reply'; readonly parts: ResponseParts }
  /**
   * Verified but not known to be fresh: answer with this protected challenge (RFC 9175 §2.4,
   * Echo) and do not deliver the request. Unicast: sent at once. Multicast: sent, after Leisure,
   * only if `request` (the verified original) is for a resource that takes multicast requests
   * (Group OSCORE draft §10: the challenge goes to a verified group member).
   */
  | {
      readonly kind: 'challenge';
      readonly request: CoapMessage;
      readonly parts: ResponseParts;
      /** Called when the challenge goes out (after Leisure for multicast): its lifetime starts. */
      readonly sent?: () => void;
    }
  /** Not verified: drop silently (always for multicast). */
  | { readonly kind: 'drop' };

/** Where a request came from. */
export interface RequestOrigin {
  readonly remote: Address;
  readonly multicast: boolean;
  readonly group: string | undefined;
}
