/**
 * @module server/security
 * The hook through which a message-protection layer opens a server's requests and seals its
 * responses (design.md: security as a layer that wraps messages). The server knows nothing of
 * OSCORE: `oscore/endpoint` implements this interface (RFC 8613 §8.2, §8.3; Group OSCORE
 * draft-ietf-core-oscore-groupcomm §7.2, §7.3), and the pipeline calls it first for every
 * request. Also the identity a verified request carries, for access policies (RFC 7390 §6.2).
 */
import type { CoapMessage } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { optionDefinition } from '../options/registry.js';
import type { Address } from '../transport/types.js';

/**
 * Who protected a request, as far as the security layer verified it. Read-only; an access
 * policy may authorize on it (e.g. the `/coap-group` write policy, RFC 7390 §6.2).
 */
export interface RequestSecurity {
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
  readonly security: RequestSecurity;
  /**
   * Protects a response (or a notification) to this request. The first response may reuse the
   * request's nonce; every later one gets a fresh Partial IV (RFC 8613 §8.3, §4.1.3.5).
   * @throws CoapError when it cannot be protected; the response is then not sent.
   */
  seal(parts: ResponseParts): ResponseParts;
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

/** The server side of a message-protection layer. */
export interface ServerSecurity {
  /** Critical options this layer processes in requests (e.g. OSCORE, 9); the messenger accepts them. */
  readonly criticalOptions?: readonly number[];
  open(request: CoapMessage, origin: RequestOrigin): SecurityVerdict;
  /**
   * Default Leisure in seconds when the server was given none (groupcomm-bis §3.1.5: 20 s for
   * a Group OSCORE group using the group mode, 13 s for the pairwise mode only).
   */
  readonly defaultLeisure?: number | undefined;
}

/** Resource options of the security hook. */
export interface SecureResourceOptions {
  /**
   * Refuse unprotected requests: 4.01 Unauthorized for unicast, silence for multicast
   * (RFC 8613 §8.2 leaves the policy to the application; RFC 7252 §5.9.2.2).
   */
  protected?: boolean;
}

/** Critical options the messenger leaves to the layers above by default (messenger.ts: OSCORE, Q-Block, EDHOC). */
const LEFT_TO_UPPER_LAYERS = new Set([9, 19, 21, 31]);

/**
 * The messenger's `isRecognizedOption` when a security layer is installed: the registry's
 * options, plus those the layer processes (RFC 7252 §5.4.1: critical options must be understood;
 * OSCORE, number 9, is critical, RFC 8613 §2).
 */
export function recognizedWith(extra: readonly number[]): (n: number) => boolean {
  return (n) => extra.includes(n) || (optionDefinition(n) !== undefined && !LEFT_TO_UPPER_LAYERS.has(n));
}
