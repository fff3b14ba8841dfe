/**
 * @module server/leisure
 * Leisure (RFC 7252 §8.2, RFC 7390 §2.8): a response to a multicast request is sent at a uniformly
 * random time within the Leisure period, and a later response on the same group starts a new
 * period no earlier than the end of the previous one. Each node and each request draws its own
 * delay, which also decorrelates group members' responses (RFC 7390 §5.4.1).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime.js';

/** Leisure in seconds, or the inputs of lb_Leisure = S * G / R (RFC 7252 §8.2). */
export type LeisureSetting =
  | number
  | { readonly responseSize: number; readonly groupSize: number; readonly dataRate: number };

/** Seconds of Leisure for a setting. @throws InvalidArgumentError for negative or non-finite values. */
export function leisureSeconds(s: LeisureSetting): number {
  if (typeof s === 'number') {
    if (!(Number.isFinite(s) && s >= 0))
      throw new InvalidArgumentError(`leisure must be >= 0 seconds, got ${s}`);
    return s;
  }
  const { responseSize: S, groupSize: G, dataRate: R } = s;
  if (!(S > 0 && G > 0 && R > 0)) {
    throw new InvalidArgumentError('leisure S*G/R needs positive responseSize, groupSize and dataRate');
  }
  return (S * G) / R;
}

/**
 * Leisure periods queued at most per group. Each response takes a whole period, so a flood of
 * multicast requests would otherwise queue responses (and memory) for hours; beyond this the
 * response is dropped, which RFC 7252 §8.2 allows ("MAY ... ignore").
 */
export const MAX_QUEUED_PERIODS = 16;

/** Per-group Leisure periods. The table holds one number per group this node answers for. */
export class LeisureScheduler {
  private readonly periodEnd = new Map<string, number>();
  private readonly runtime: Runtime;

  constructor(runtime: Runtime) {
    this.runtime = runtime;
  }

  /**
   * Milliseconds to wait before sending a response for `group`, with `leisureMs` of Leisure;
   * -1 when the group's backlog is full and the response should be dropped. With `capped`
   * false the period is queued whatever the backlog (notifications: one per observer at most).
   */
  delay(group: string, leisureMs: number, capped = true): number {
    const now = this.runtime.now();
    const end = this.periodEnd.get(group) ?? now;
    const start = Math.max(end, now);
    if (capped && leisureMs > 0 && start - now >= MAX_QUEUED_PERIODS * leisureMs) return -1;
    this.periodEnd.set(group, start + leisureMs);
    return start - now + this.runtime.random() * leisureMs;
  }

  /** Forgets a group (when it is left). */
  forget(group: string): void {
    this.periodEnd.delete(group);
  }
}
