/**
 * @module group-json/group-index
 * Group indexes, the `{index}` of `/{+gp}/{index}` (RFC 7390 §2.6.2.2): "a string of maximum
 * two (2) alphanumeric ASCII characters (case insensitive)", locally unique. Validation, the
 * lower-case normal form, and allocation of fresh indexes that never collide with those a
 * PUT on the collection supplied (RFC 7390 §2.6.2.6, R47).
 */
import { InvalidArgumentError } from '../errors.js';

const INDEX = /^[A-Za-z0-9]{1,2}$/;

/** How many distinct indexes exist: 36 of one character plus 36 × 36 of two (case-insensitive). */
export const INDEX_SPACE_SIZE = 36 + 36 * 36;

/** True for 1-2 ASCII letters or digits (RFC 7390 §2.6.2.2, R39). Case is not significant. */
export function isValidIndex(index: string): boolean {
  return typeof index === 'string' && INDEX.test(index);
}

/** The normal form of a valid index: lower case, so "A" and "a" are one key (RFC 7390 §2.6.2.2). */
export function normaliseIndex(index: string): string {
  return index.toLowerCase();
}

/**
 * The order in which indexes are handed out: the decimal numbers 1-99 first (what the RFC 7390
 * examples use, and the easiest to type), then the rest by length and character order:
 * "0", "a"-"z", "00"-"09", "0a"-"0z", "1a"-"1z" and so on. The array is frozen and built
 * once; it is a table, not state.
 */
const ALLOCATION_ORDER: readonly string[] = (() => {
  const chars = '0123456789abcdefghijklmnopqrstuvwxyz';
  const all: string[] = [...chars];
  for (const a of chars) for (const b of chars) all.push(a + b);
  const decimal = (s: string) => /^[1-9][0-9]?$/.test(s);
  const first = all.filter(decimal).sort((x, y) => Number(x) - Number(y));
  const rest = all.filter((s) => !decimal(s)); // already by length, then character order
  return Object.freeze([...first, ...rest]);
})();

const ORDINAL = new Map(ALLOCATION_ORDER.map((s, i) => [s, i]));

/**
 * Where `index` stands in the allocation order (0-based), or -1 when it is not a valid index.
 * A store that passes `indexOrdinal(last) + 1` as the hint of {@link nextFreeIndex} walks the
 * whole space before it reuses a deleted index.
 */
export function indexOrdinal(index: string): number {
  return isValidIndex(index) ? ORDINAL.get(normaliseIndex(index))! : -1;
}

/**
 * A fresh index that differs, ignoring case, from every one in `used`, or undefined when all
 * {@link INDEX_SPACE_SIZE} are taken. The search starts at ordinal `hint` (default 0) of the
 * allocation order and wraps around.
 *
 * Why a hint: RFC 7390 only asks for local uniqueness, but handing out the just-deleted index
 * again lets a client that still holds the old Location-Path update the wrong membership.
 *
 * @example
 * ```ts
 * nextFreeIndex(new Set(['1', '2']));        // '3'
 * nextFreeIndex(new Set(['1', '3']), 2);     // '4': ordinal 2 is '3', which a PUT supplied
 * ```
 * @throws InvalidArgumentError when `hint` is not a non-negative integer.
 */
export function nextFreeIndex(used: ReadonlySet<string>, hint = 0): string | undefined {
  if (!Number.isSafeInteger(hint) || hint < 0) {
    throw new InvalidArgumentError(`hint must be a non-negative integer, not ${String(hint)}`);
  }
  const taken = new Set<string>();
  for (const u of used) if (isValidIndex(u)) taken.add(normaliseIndex(u));
  if (taken.size >= INDEX_SPACE_SIZE) return undefined;
  for (let k = 0; k < INDEX_SPACE_SIZE; k++) {
    const candidate = ALLOCATION_ORDER[(hint + k) % INDEX_SPACE_SIZE]!;
    if (!taken.has(candidate)) return candidate;
  }
  return undefined;
}
