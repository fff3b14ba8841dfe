/**
 * @module server/resource
 * A resource: its handlers per method, its link attributes for /.well-known/core (RFC 6690 §3),
 * whether and how it takes multicast requests (RFC 7390 §2.7: opt-in per resource), and whether
 * it refuses requests that no layer verified.
 */
import type { MethodName } from '../message/codes.js';
import type { IncomingRequest } from './request.js';
import type { RespondOptions } from './responder.js';
import { type ResponseInit, TextMemo } from './response.js';
import { DEFAULT_SUPPRESSION, type SuppressionPolicy } from './suppression.js';

const DEFAULT_RESPOND: RespondOptions = Object.freeze({ policy: DEFAULT_SUPPRESSION });

/** A request handler. Throw `CoapResponseError` to answer with an error code. */
export type Handler = (
  req: IncomingRequest,
) => ResponseInit | undefined | undefined | Promise<ResponseInit | undefined | undefined>;

/** Link attributes published in /.well-known/core (RFC 6690 §3, RFC 7641 §6 for `obs`). */
export interface ResourceMeta {
  rt?: string | readonly string[];
  if?: string | readonly string[];
  ct?: number | readonly number[];
  sz?: number;
  obs?: boolean;
  title?: string;
  /** Leave it out of /.well-known/core. */
  hidden?: boolean;
}

/** Per-resource options. */
export interface ResourceOptions extends ResourceMeta {
  /**
   * Accept multicast requests (RFC 7390 §2.7, R54: off unless asked). `true` uses the default
   * suppression; an object changes individual switches.
   */
  multicast?: boolean | Partial<SuppressionPolicy>;
  /** Content-Formats accepted in request payloads; others get 4.15 (RFC 7252 §5.10.3). */
  accepts?: readonly number[];
}

/** Resource options of protection. */
export interface SecureResourceOptions {
  /**
   * Refuse requests that no security layer verified: 4.01 Unauthorized for unicast, silence for
   * multicast (RFC 7252 §5.9.2.2; RFC 8613 §8.2 leaves the policy to the application).
   */
  protected?: boolean;
}

/** @internal */
export class Resource {
  readonly path: string;
  readonly handlers = new Map<MethodName, Handler>();
  meta: ResourceMeta = {};
  multicast = false;
  suppression: SuppressionPolicy = DEFAULT_SUPPRESSION;
  /** How its responses are sent: made once, not per response. */
  respondOptions: RespondOptions = DEFAULT_RESPOND;
  accepts: readonly number[] | undefined;
  /** Requests no layer verified are refused. */
  protected = false;
  /** The bytes of its last text payload (server/response `TextMemo`). */
  readonly textMemo = new TextMemo();

  constructor(path: string) {
    this.path = path;
  }

  configure(o: ResourceOptions & SecureResourceOptions): void {
    const { multicast, accepts, protected: prot, ...meta } = o;
    this.meta = { ...this.meta, ...meta };
    if (prot !== undefined) this.protected = prot;
    if (accepts !== undefined) this.accepts = accepts;
    if (multicast !== undefined) {
      this.multicast = multicast !== false;
      this.suppression =
        typeof multicast === 'object' ? { ...DEFAULT_SUPPRESSION, ...multicast } : DEFAULT_SUPPRESSION;
      this.respondOptions =
        this.suppression === DEFAULT_SUPPRESSION
          ? DEFAULT_RESPOND
          : Object.freeze({ policy: this.suppression });
    }
  }
}
