/**
 * @module group-config/rate-limit
 * A token bucket on configuration changes. RFC 7390 §6.2 warns that constantly re-setting the
 * Group Configuration resource makes a node join and leave groups over and over, a denial of
 * service; authorization stops strangers, this stops a runaway or compromised controller. A
 * change that finds the bucket empty is answered 5.03 with Max-Age saying when to retry
 * (RFC 7252 §5.9.3.4) and changes nothing.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** Options of the change limit. */
export interface RateLimitOptions {
  /** Changes allowed at once after a quiet period; default 10. */
  burst?: number;
  /** Sustained changes per second; default 1. */
  perSecond?: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<Required<RateLimitOptions>> = Object.freeze({
  burst: 10,
  perSecond: 1,
});

/**
 * A token bucket on the injected clock.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket({ burst: 2, perSecond: 0.5 }, systemRuntime);
 * bucket.take(); // 0: allowed
 * bucket.take(); // 0
 * bucket.take(); // 2: refused, a token is back in 2 s
 * ```
 */
export class TokenBucket {
  readonly burst: number;
  readonly perSecond: number;
  private tokens: number;
  private last: number;
  private readonly runtime: Runtime;

  constructor(options: RateLimitOptions, runtime: Runtime) {
    const burst = options.burst ?? DEFAULT_RATE_LIMIT.burst;
    const perSecond = options.perSecond ?? DEFAULT_RATE_LIMIT.perSecond;
    if (!Number.isInteger(burst) || burst < 1) {
      throw new InvalidArgumentError(`rateLimit.burst must be an integer >= 1, not ${String(burst)}`);
    }
    if (!(typeof perSecond === 'number' && perSecond > 0 && Number.isFinite(perSecond))) {
      throw new InvalidArgumentError(`rateLimit.perSecond must be a number > 0, not ${String(perSecond)}`);
    }
    this.burst = burst;
    this.perSecond = perSecond;
    this.tokens = burst;
    this.runtime = runtime;
    this.last = runtime.now();
  }

  /** Takes a token: 0 when one was there, otherwise whole seconds (>= 1) until one will be. */
  take(): number {
    const now = this.runtime.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    // The epsilon absorbs float error, so exactly 1/perSecond seconds always buys a token.
    if (this.tokens >= 1 - 1e-9) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}
