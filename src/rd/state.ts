/**
 * @module rd/state
 * The persisted form of a resource directory (RFC 9176 §3.3), pure bytes to values and back:
 * one JSON line per registration, with its deadline as a wall-clock time so a restart can drop
 * what expired while it was down (RFC 9176 §5: the lifetime is enforced). A snapshot holds
 * every registration; journal lines carry one change each with a CRC-32, so a line torn by a
 * crash is recognised (see rd/store).
 *
 * ```text
 * {"version":1,"next":13,"seq":40,"registrations":[
 * {"id":"12","order":12,"ep":"lights","base":"coap://[ff05::1]","bg":true,"lt":90000,"exp":1767225600000,
 *  "attrs":[["et","core.rd-group"]],"links":"</light>;rt=\"light\"","owner":"addr:127.0.0.1","simple":false}
 * ]}
 * 3f1a09c2	{"seq":41,"del":"12"}
 * ```
 */
import { crc32 } from 'node:zlib';
import { formatLinks, parseLinks } from '../link-format/index.js';
import type { EndpointAttribute } from './params.js';
import type { RegistrationInput } from './registration.js';

/** The version this code writes and reads. */
export const RD_STATE_VERSION = 1;

/** A registration as stored: its input fields with the deadline in wall-clock ms. */
export type StoredRegistration = Omit<RegistrationInput, 'expiresAt'> & { readonly exp: number };

/** One change: a registration put (created, replaced, updated, refreshed) or removed. */
export type RdChange = { readonly put: StoredRegistration } | { readonly del: string };

/** Everything a restart needs. */
export interface RdState {
  /** The next registration resource number (never reused). */
  readonly next: number;
  readonly registrations: readonly StoredRegistration[];
}

/** The JSON line of one registration. */
export function encodeRegistration(r: StoredRegistration): string {
  return JSON.stringify({
    id: r.id,
    order: r.order,
    ep: r.ep,
    ...(r.d !== undefined ? { d: r.d } : {}),
    base: r.base,
    bg: r.baseGiven,
    lt: r.lt,
    exp: r.exp,
    attrs: r.attributes,
    links: formatLinks(r.links),
    owner: r.owner,
    simple: r.simple,
  });
}

/** Thrown by the decoders; the store adds the file name. */
export class StateSyntaxError extends Error {}

function fail(what: string): never {
  throw new StateSyntaxError(what);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') fail(`"${k}" is not a string`);
  return v;
}

function int(o: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`"${k}" is not an integer from ${min} to ${max}`);
  }
  return v;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** A registration from its decoded JSON; every field checked. */
export function decodeRegistration(value: unknown): StoredRegistration {
  const o = object(value, 'a registration');
  const attrs = o.attrs;
  if (!Array.isArray(attrs)) fail('"attrs" is not an array');
  const attributes: EndpointAttribute[] = attrs.map((a) => {
    if (!Array.isArray(a) || a.length !== 2 || typeof a[0] !== 'string') fail('"attrs" has a bad entry');
    if (typeof a[1] !== 'string' && a[1] !== true) fail('"attrs" has a bad value');
    return [a[0], a[1]] as const;
  });
  let links: RegistrationInput['links'];
  try {
    links = parseLinks(str(o, 'links'));
  } catch (err) {
    fail(`"links" is not link format: ${(err as Error).message}`);
  }
  if (o.d !== undefined && typeof o.d !== 'string') fail('"d" is not a string');
  if (typeof o.bg !== 'boolean' || typeof o.simple !== 'boolean') fail('"bg" and "simple" must be booleans');
  const id = str(o, 'id');
  if (!/^[1-9][0-9]{0,15}$/.test(id)) fail(`"id" ${JSON.stringify(id)} is not a registration number`);
  return {
    id,
    order: int(o, 'order', 0, Number.MAX_SAFE_INTEGER),
    ep: str(o, 'ep'),
    d: o.d as string | undefined,
    base: str(o, 'base'),
    baseGiven: o.bg,
    lt: int(o, 'lt', 1, 4294967295),
    exp: int(o, 'exp', 0, Number.MAX_SAFE_INTEGER),
    attributes,
    links,
    owner: str(o, 'owner'),
    simple: o.simple,
  };
}

/** The snapshot file: a header line, then one registration per line. */
export function encodeSnapshot(next: number, seq: number, lines: Iterable<string>): Buffer {
  let body = '';
  for (const l of lines) body += body === '' ? `\n${l}` : `,\n${l}`;
  return Buffer.from(
    `{"version":${RD_STATE_VERSION},"next":${next},"seq":${seq},"registrations":[${body}\n]}\n`,
  );
}

/** The snapshot's content. */
export function decodeSnapshot(bytes: Buffer): RdState & { readonly seq: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    fail(`not JSON: ${(err as Error).message}`);
  }
  const o = object(doc, 'the top level');
  if (o.version !== RD_STATE_VERSION) fail(`version ${JSON.stringify(o.version)} is not ${RD_STATE_VERSION}`);
  if (!Array.isArray(o.registrations)) fail('"registrations" is not an array');
  return {
    next: int(o, 'next', 1, Number.MAX_SAFE_INTEGER),
    seq: int(o, 'seq', 0, Number.MAX_SAFE_INTEGER),
    registrations: o.registrations.map(decodeRegistration),
  };
}

function checksum(text: string): string {
  return crc32(Buffer.from(text)).toString(16).padStart(8, '0');
}

/** A journal line (with its newline) for change number `seq`. */
export function encodeJournalLine(seq: number, change: RdChange, encoded?: string): string {
  const body =
    'put' in change
      ? `{"seq":${seq},"put":${encoded ?? encodeRegistration(change.put)}}`
      : `{"seq":${seq},"del":${JSON.stringify(change.del)}}`;
  return `${checksum(body)}\t${body}\n`;
}

/**
 * One journal line without its newline, or undefined when it is torn (its checksum does not
 * match: the write was cut short).
 * @throws StateSyntaxError for a line whose checksum matches but whose content is not a change.
 */
export function decodeJournalLine(line: string): { seq: number; change: RdChange } | undefined {
  if (line.indexOf('\t') !== 8) return undefined;
  const body = line.slice(9);
  if (checksum(body) !== line.slice(0, 8)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    fail(`a journal line is not JSON: ${(err as Error).message}`);
  }
  const o = object(doc, 'a journal entry');
  const seq = int(o, 'seq', 1, Number.MAX_SAFE_INTEGER);
  if (o.del !== undefined) return { seq, change: { del: str(o, 'del') } };
  return { seq, change: { put: decodeRegistration(o.put) } };
}
