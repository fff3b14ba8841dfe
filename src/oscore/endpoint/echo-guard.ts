/**
 * @module oscore/endpoint/echo-guard
 * Freshness by Echo (RFC 9175 §2.4) for the replay windows a server cannot trust after it
 * started: one per RFC 8613 Recipient Context (RFC 8613 Appendix B.1.2) and one per Group OSCORE
 * member (Group OSCORE draft §10, §2.6.1.2). Until a window is known valid, a verified request is
 * answered with a challenge instead of being delivered; the request that echoes a value sent
 * within the Echo lifetime makes the window valid, and its Partial IV becomes the window's lower
 * limit. One guard, two uses: an RFC 8613 context replaces its one open value with each new
 * challenge; a group member gets a few open values and silence beyond them (no amplification of
 * replayed recordings).
 */
import type { Runtime } from '../../runtime.js';

/** How a guard treats one kind of peer. */
export interface EchoGuardOptions {
  /** How long a value is accepted after it was sent, ms (RFC 9175 §2.3). */
  readonly lifetimeMs: number;
  /** Values open at once per peer (within the lifetime). */
  readonly maxOpen: number;
  /** With `maxOpen` values open: `'replace'` the oldest, or stay `'silent'`. */
  readonly whenFull: 'replace' | 'silent';
}

/** What to do with a verified request. */
export type EchoCheck =
  /** The window is valid: deliver. */
  | { readonly kind: 'valid' }
  /** The request echoed an open value: its window is now valid; reset it to this request, then deliver. */
  | { readonly kind: 'answered' }
  /** Answer with a challenge carrying `value`; call `sent()` when it goes out (the value's age starts). */
  | { readonly kind: 'challenge'; readonly value: Buffer; sent(): void }
  /** Too many open challenges: drop silently. */
  | { readonly kind: 'silent' };

interface Freshness {
  valid: boolean;
  open: Array<{ readonly value: Buffer; sentAt: number }>;
}

const VALID: EchoCheck = Object.freeze({ kind: 'valid' });
const ANSWERED: EchoCheck = Object.freeze({ kind: 'answered' });
const SILENT: EchoCheck = Object.freeze({ kind: 'silent' });

/** Echo state per peer context, held only as long as the context itself (a WeakMap by context). */
export class EchoGuard {
  readonly #runtime: Runtime;
  readonly #options: EchoGuardOptions;
  readonly #state = new WeakMap<object, Freshness>();

  constructor(runtime: Runtime, options: EchoGuardOptions) {
    this.#runtime = runtime;
    this.#options = options;
  }

  /**
   * Checks a verified request of `peer` (the context whose replay window is guarded) carrying
   * `echo` (its Echo option value, if any); `mayAnswer` is false where this request may not
   * prove freshness even with the right value (Group OSCORE draft §10: only a unicast request,
   * in the pairwise mode where the group uses it).
   */
  check(peer: object, echo: Buffer | undefined, mayAnswer: boolean): EchoCheck {
    let st = this.#state.get(peer);
    if (st === undefined) this.#state.set(peer, (st = { valid: false, open: [] }));
    if (st.valid) return VALID;
    const now = this.#runtime.now();
    const { lifetimeMs, maxOpen, whenFull } = this.#options;
    // Values outlive neither their lifetime nor the window they guard.
    st.open = st.open.filter((c) => now - c.sentAt <= lifetimeMs);
    if (mayAnswer && echo !== undefined && st.open.some((c) => echo.equals(c.value))) {
      st.valid = true;
      st.open = [];
      return ANSWERED;
    }
    if (st.open.length >= maxOpen) {
      if (whenFull === 'silent') return SILENT;
      st.open.shift();
    }
    const entry = { value: this.#runtime.randomBytes(8), sentAt: now };
    st.open.push(entry);
    const runtime = this.#runtime;
    return {
      kind: 'challenge',
      value: entry.value,
      // RFC 9175 §2.2: the value's age counts from when it is sent, which Leisure may delay.
      sent: () => {
        entry.sentAt = runtime.now();
      },
    };
  }
}
