/**
 * @module rd/directory
 * The registrations of a resource directory in memory (RFC 9176 §3.3): by registration
 * resource, by (ep, d) (RFC 9176 §5: one registration per pair), in creation order (the order
 * of lookup results), with indexes on `ep`, `d` and `et` so that a lookup naming one of them
 * exactly (RFC 9176 §10.1, Figure 26) does not scan the whole directory.
 */
import { namesEqual } from '../link-format/grammar.js';
import type { Criterion } from './lookup.js';
import { keyOf, type Registration } from './registration.js';

/** The endpoint attributes with an index. */
const INDEXED = ['ep', 'd', 'et'] as const;
type Indexed = (typeof INDEXED)[number];

function indexedName(name: string): Indexed | undefined {
  for (const n of INDEXED) if (namesEqual(n, name)) return n;
  return undefined;
}

/** The values a registration's endpoint has for an indexed name. */
function valuesOf(r: Registration, name: Indexed): string[] {
  if (name === 'ep') return [r.ep];
  if (name === 'd') return r.d === undefined ? [] : [r.d];
  return r.attributes.filter(([k, v]) => k === name && typeof v === 'string').map(([, v]) => v as string);
}

/** Whether any of its links carries an attribute of that name (then the index cannot rule it out). */
function linksCarry(r: Registration, name: Indexed): boolean {
  for (const l of r.links) for (const [k] of l.attributes) if (namesEqual(k, name)) return true;
  return false;
}

export class Directory {
  private readonly regs = new Map<string, Registration>();
  private readonly keys = new Map<string, Registration>();
  private readonly index = new Map<Indexed, Map<string, Set<Registration>>>();
  /** Registrations whose links carry an indexed name as a link attribute. */
  private readonly carriers = new Map<Indexed, Set<Registration>>();
  private links = 0;
  /** The next registration resource number; never goes back, so a location is never reused. */
  next = 1;

  constructor() {
    for (const n of INDEXED) {
      this.index.set(n, new Map());
      this.carriers.set(n, new Set());
    }
  }

  get size(): number {
    return this.regs.size;
  }

  /** Links held over all registrations. */
  get linkCount(): number {
    return this.links;
  }

  get(id: string): Registration | undefined {
    return this.regs.get(id);
  }

  find(ep: string, d: string | undefined): Registration | undefined {
    return this.keys.get(keyOf(ep, d));
  }

  /** Every registration in creation order. */
  all(): IterableIterator<Registration> {
    return this.regs.values();
  }

  /** A fresh registration resource number. */
  allocateId(): string {
    return String(this.next++);
  }

  /** Adds or replaces (same id: same place in the order). Returns the previous record. */
  set(r: Registration): Registration | undefined {
    const old = this.regs.get(r.id);
    if (old !== undefined) this.unindex(old);
    const clash = this.keys.get(keyOf(r.ep, r.d));
    if (clash !== undefined && clash.id !== r.id) this.delete(clash.id);
    this.regs.set(r.id, r);
    this.keys.set(keyOf(r.ep, r.d), r);
    this.links += r.links.length;
    for (const n of INDEXED) {
      for (const v of valuesOf(r, n)) {
        const byValue = this.index.get(n)!;
        let set = byValue.get(v);
        if (set === undefined) byValue.set(v, (set = new Set()));
        set.add(r);
      }
      if (linksCarry(r, n)) this.carriers.get(n)!.add(r);
    }
    const id = Number(r.id);
    if (Number.isSafeInteger(id) && id >= this.next) this.next = id + 1;
    return old;
  }

  delete(id: string): Registration | undefined {
    const r = this.regs.get(id);
    if (r === undefined) return undefined;
    this.unindex(r);
    this.regs.delete(id);
    return r;
  }

  private unindex(r: Registration): void {
    if (this.keys.get(keyOf(r.ep, r.d)) === r) this.keys.delete(keyOf(r.ep, r.d));
    this.links -= r.links.length;
    for (const n of INDEXED) {
      const byValue = this.index.get(n)!;
      for (const v of valuesOf(r, n)) {
        const set = byValue.get(v);
        set?.delete(r);
        if (set?.size === 0) byValue.delete(v);
      }
      this.carriers.get(n)!.delete(r);
    }
  }

  /**
   * The registrations that can match every criterion, in creation order: when a criterion names
   * an indexed attribute exactly, only the registrations with that value (or with links that
   * carry the attribute themselves) are candidates; otherwise all of them.
   */
  candidates(criteria: readonly Criterion[]): Iterable<Registration> {
    let best: Registration[] | undefined;
    for (const c of criteria) {
      const n = indexedName(c.name);
      if (n === undefined || c.value.endsWith('*')) continue;
      const hits = this.index.get(n)!.get(c.value);
      const carriers = this.carriers.get(n)!;
      const size = (hits?.size ?? 0) + carriers.size;
      if (best !== undefined && size >= best.length) continue;
      const set = new Set<Registration>(hits ?? []);
      for (const r of carriers) set.add(r);
      best = [...set];
      if (best.length === 0) return best;
    }
    if (best === undefined) return this.regs.values();
    return best.sort((a, b) => a.order - b.order);
  }
}
