/**
 * @module rd/observed
 * Which lookups are being observed (RFC 9176 §6.2, RFC 7641), so a change notifies the lookup
 * resources only when it can alter some observed result: a node renewing its registration, or
 * registering resources no observer asks for, sends nothing. The server notifies every observer
 * of a resource together, so one affected query notifies them all. The table is bounded; once
 * a query had to be forgotten, every change notifies (never too few notifications).
 */
import { type Criterion, contributes, type LookupKind } from './lookup.js';
import type { Registration } from './registration.js';

interface Entry {
  readonly kind: LookupKind;
  readonly criteria: readonly Criterion[];
}

export class ObservedQueries {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  /** A query was evicted: from then on every change counts as affecting. */
  private overflowed = false;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records an observation request (a GET with Observe 0) for this query. */
  note(kind: LookupKind, query: readonly string[], criteria: readonly Criterion[]): void {
    // Paging does not change which registrations matter: any matching change may shift a page.
    const key = `${kind}?${[...query].sort().join('&')}`;
    this.entries.delete(key); // re-insert: the most recently seen is last
    this.entries.set(key, { kind, criteria });
    if (this.entries.size > this.max) {
      this.entries.delete(this.entries.keys().next().value!);
      this.overflowed = true;
    }
  }

  /** The lookup kinds whose observed results `before` becoming `after` can change. */
  affected(before: Registration | undefined, after: Registration | undefined): Set<LookupKind> {
    const kinds = new Set<LookupKind>();
    if (this.overflowed) return new Set(['ep', 'res']);
    for (const e of this.entries.values()) {
      if (kinds.has(e.kind)) continue;
      if (
        (before !== undefined && contributes(e.kind, before, e.criteria)) ||
        (after !== undefined && contributes(e.kind, after, e.criteria))
      ) {
        kinds.add(e.kind);
      }
    }
    return kinds;
  }
}
