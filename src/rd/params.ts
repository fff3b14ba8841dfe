/**
 * @module rd/params
 * The query parameters of registration, simple registration and registration update (RFC 9176
 * §5, §5.1, §5.3.1, §9.3): `ep`, `d`, `lt`, `base` and any other parameter, kept as an endpoint
 * attribute (`et` among them, §9.3.1). Everything is checked before anything changes; a bad
 * value is a 4.00 whose diagnostic says what is wrong.
 */
import { CoapResponseError } from '../errors.js';
import { isValidName } from '../link-format/grammar.js';
import { baseProblem } from './uri-ref.js';

/** RFC 9176 §5: an `lt` of 1 to 4294967295 seconds; 90000 (25 hours) when not given. */
export const DEFAULT_LIFETIME = 90000;
export const MAX_LIFETIME = 4294967295;
/** RFC 9176 §5, §9.3: `ep` and `d` are at most 63 bytes of UTF-8. */
export const MAX_NAME_BYTES = 63;

/** An endpoint attribute: a name and its value (`true` for a parameter without `=`). */
export type EndpointAttribute = readonly [name: string, value: string | true];

/** What a registration request asks for. */
export interface RegistrationParams {
  readonly ep: string | undefined;
  readonly d: string | undefined;
  readonly lt: number | undefined;
  readonly base: string | undefined;
  /** Further parameters, in request order (RFC 9176 §5: stored "for further lookup"). */
  readonly extra: readonly EndpointAttribute[];
}

/** Parameters that only mean something in a lookup (RFC 9176 §9.3, use "L"). */
const LOOKUP_ONLY = new Set(['page', 'count']);

function bad(message: string): CoapResponseError {
  return new CoapResponseError('4.00', message);
}

/** RFC 9176 §5: no character in 0-31 or 127-159. */
export function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function name(kind: 'ep' | 'd', value: string): string {
  if (value === '') throw bad(`${kind} must not be empty`);
  if (Buffer.byteLength(value, 'utf8') > MAX_NAME_BYTES) {
    throw bad(`${kind} is longer than ${MAX_NAME_BYTES} bytes of UTF-8 (RFC 9176 §5)`);
  }
  if (hasControl(value)) throw bad(`${kind} must not contain control characters (RFC 9176 §5)`);
  if (value.includes('\ufffd')) throw bad(`${kind} is not valid UTF-8`);
  return value;
}

function lifetime(value: string): number {
  if (!/^[0-9]{1,10}$/.test(value)) throw bad(`lt ${JSON.stringify(value)} is not a number of seconds`);
  const n = Number(value);
  if (n < 1 || n > MAX_LIFETIME) throw bad(`lt ${value} is outside 1-${MAX_LIFETIME} (RFC 9176 §5)`);
  return n;
}

/**
 * Reads the query arguments (already percent-decoded) of a registration request.
 * @throws CoapResponseError 4.00 for a repeated `ep`/`d`/`lt`/`base`, a bad value, a lookup
 *   parameter, or a name that cannot be written back as a link attribute.
 */
export function parseRegistrationQuery(query: readonly string[]): RegistrationParams {
  let ep: string | undefined;
  let d: string | undefined;
  let lt: number | undefined;
  let base: string | undefined;
  const extra: EndpointAttribute[] = [];
  const seen = new Set<string>();
  for (const arg of query) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    const known = key === 'ep' || key === 'd' || key === 'lt' || key === 'base';
    if (known) {
      if (value === undefined) throw bad(`${key} needs a value (${key}=...)`);
      if (seen.has(key)) throw bad(`${key} is given twice`);
      seen.add(key);
    }
    switch (key) {
      case 'ep':
        ep = name('ep', value!);
        break;
      case 'd':
        d = name('d', value!);
        break;
      case 'lt':
        lt = lifetime(value!);
        break;
      case 'base': {
        const problem = baseProblem(value!);
        if (problem !== undefined) throw bad(problem);
        base = value;
        break;
      }
      default:
        if (LOOKUP_ONLY.has(key)) throw bad(`${key} is a lookup parameter, not a registration one`);
        if (!isValidName(key) || key.endsWith('*')) {
          throw bad(`${JSON.stringify(key)} is not a parameter name a link attribute can carry`);
        }
        if (value !== undefined && hasControl(value)) {
          throw bad(`the value of ${key} must not contain control characters`);
        }
        extra.push([key, value ?? true]);
    }
  }
  return { ep, d, lt, base, extra };
}

/**
 * The endpoint attributes after an update (RFC 9176 §5.3.1): a parameter given again replaces
 * every stored value of that name, the others stay.
 */
export function mergeAttributes(
  old: readonly EndpointAttribute[],
  update: readonly EndpointAttribute[],
): EndpointAttribute[] {
  if (update.length === 0) return [...old];
  const replaced = new Set(update.map(([k]) => k));
  return [...old.filter(([k]) => !replaced.has(k)), ...update];
}

/** True when the attributes say the endpoint is a group (`et=core.rd-group`, RFC 9176 §9.4). */
export function isGroupType(attributes: readonly EndpointAttribute[]): boolean {
  return attributes.some(([k, v]) => k === 'et' && v === 'core.rd-group');
}
