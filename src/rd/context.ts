/**
 * @module rd/context
 * What the resource directory's handlers share: the state, the authorization policy, the
 * limits (RFC 9176 §8.4: an RD is a target for denial of service; past a limit it answers 5.03
 * with Max-Age or 4.13 and keeps what it has), and the resource paths (RFC 9176 §4.3 leaves them
 * to the RD; these are the ones its examples use).
 */
import type { RdPolicy } from './policy.js';
import type { RdService } from './service.js';

/** The registration interface (RFC 9176 §5), `rt="core.rd"`. */
export const RD_PATH = '/rd';
/** The endpoint lookup interface (RFC 9176 §6.4), `rt="core.rd-lookup-ep"`. */
export const RD_LOOKUP_EP_PATH = '/rd-lookup/ep';
/** The resource lookup interface (RFC 9176 §6.1), `rt="core.rd-lookup-res"`. */
export const RD_LOOKUP_RES_PATH = '/rd-lookup/res';
/** Simple registration (RFC 9176 §5.1). */
export const RD_SIMPLE_PATH = '/.well-known/rd';

/** The bounds of a resource directory. */
export interface RdLimits {
  /** Registrations at most; a new one past it gets 5.03 with Max-Age. Default 10000. */
  readonly maxRegistrations: number;
  /** Links in one registration at most; more gets 4.13. Default 256. */
  readonly maxLinks: number;
  /** Bytes of one registration payload at most; more gets 4.13 with Size1. Default 16384. */
  readonly maxPayloadBytes: number;
  /**
   * Large lookups (scanned in slices) in flight at most; more get 5.03 with Max-Age 1.
   * Default 8.
   */
  readonly maxLookupsInFlight: number;
  /** Simple registrations waiting for the endpoint's /.well-known/core at most; default 8. */
  readonly maxSimpleInFlight: number;
  /** Distinct observed lookup queries remembered (see rd/observed); default 256. */
  readonly maxObservedQueries: number;
}

export const DEFAULT_RD_LIMITS: RdLimits = Object.freeze({
  maxRegistrations: 10000,
  maxLinks: 256,
  maxPayloadBytes: 16384,
  maxLookupsInFlight: 8,
  maxSimpleInFlight: 8,
  maxObservedQueries: 256,
});

/** The handlers' shared state. */
export interface RdContext {
  readonly service: RdService;
  readonly policy: RdPolicy;
  readonly limits: RdLimits;
}
