/**
 * @module group-json/strict-json
 * Bytes to a JSON value, strictly, for `application/coap-group+json` (RFC 7390 §6.2: "8-bit
 * UTF-8" JSON, RFC 8259). A configuration payload is applied to the node's multicast
 * memberships, so anything with two readings is refused instead of guessed at: invalid UTF-8, a
 * byte order mark, and duplicate member names, which `JSON.parse` would silently resolve to the
 * last one (RFC 8259 §4 leaves that behaviour open).
 */
import { GroupJsonError, quote } from './error.js';

/**
 * The largest payload accepted, in bytes, checked before decoding. 512 KiB is above the largest
 * collection `formatCollection` can write (1332 entries with 253-character names, 39-character
 * IPv6 addresses and both ports: about 436 kB), so whatever this codec writes it can read back,
 * while a hostile or runaway body is refused before any work is done on it.
 */
export const MAX_GROUP_JSON_BYTES = 512 * 1024;

/** `ignoreBOM` keeps a leading U+FEFF in the text so that it can be refused, not skipped. */
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A lone surrogate: a string that no UTF-8 encoding can carry. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Payload bytes (or text already decoded) to JSON text, enforcing size and UTF-8 (RFC 7390 §6.2). */
function toText(payload: Buffer | string): string {
  let text: string;
  if (typeof payload === 'string') {
    // Every UTF-16 unit takes at least one UTF-8 byte, so a long string fails without encoding.
    if (payload.length > MAX_GROUP_JSON_BYTES || Buffer.byteLength(payload, 'utf8') > MAX_GROUP_JSON_BYTES) {
      throw new GroupJsonError(`the payload is larger than ${MAX_GROUP_JSON_BYTES} bytes`);
    }
    if (LONE_SURROGATE.test(payload)) {
      throw new GroupJsonError('the payload is not valid UTF-8 (it has a lone surrogate)');
    }
    text = payload;
  } else if (Buffer.isBuffer(payload) || (payload as unknown) instanceof Uint8Array) {
    if (payload.length > MAX_GROUP_JSON_BYTES) {
      throw new GroupJsonError(`the payload is ${payload.length} bytes; at most ${MAX_GROUP_JSON_BYTES}`);
    }
    try {
      text = decoder.decode(payload);
    } catch {
      throw new GroupJsonError('the payload is not valid UTF-8 (RFC 7390 §6.2)');
    }
  } else {
    throw new GroupJsonError('the payload must be a Buffer or a string');
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new GroupJsonError(
      'the payload starts with a byte order mark, which JSON text must not have (RFC 8259 §8.1)',
    );
  }
  return text;
}

/** One open object or array while scanning; `keys` is undefined for arrays. */
interface Frame {
  keys: Set<string> | undefined;
  /** In an object: the next string is a member name (after "{" or ","). */
  expectKey: boolean;
  /** The member name whose value is being read, for messages. */
  current: string | undefined;
}

function describe(stack: readonly Frame[]): string {
  const path = stack.slice(0, -1).map((f) => (f.current === undefined ? '[]' : quote(f.current)));
  return path.length === 0 ? 'at the top level' : `inside ${path.join(' > ')}`;
}

/**
 * Finds a member name given twice in one object, and returns the member names of the top-level
 * object in document order (a JS object lists integer-like names such as "8" and "12" first,
 * in numeric order, so `Object.keys` cannot tell). Runs on text that `JSON.parse` has accepted,
 * so the grammar is known good and only strings and brackets matter. Iterative, so deep
 * nesting cannot overflow the call stack. Names are compared after unescaping ("\u0061" is "a").
 */
function scanKeys(text: string): string[] {
  const topKeys: string[] = [];
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true, current: undefined });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: undefined, expectKey: false, current: undefined });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    } else if (c === 0x22 /* " */) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) {
          throw new GroupJsonError(
            `duplicate member name ${quote(key)} ${describe(stack)}; the configuration would be ambiguous`,
          );
        }
        top.keys.add(key);
        if (stack.length === 1) topKeys.push(key);
        top.current = key;
        top.expectKey = false;
      }
    }
  }
  return topKeys;
}

/** A parsed payload: the value, and the member names of a top-level object in document order. */
export interface ParsedJson {
  value: unknown;
  keys: string[];
}

/**
 * Decodes and parses a payload. Throws GroupJsonError for a payload that is too large, not
 * UTF-8, has a BOM, is not JSON, or repeats a member name within one object.
 */
export function readJson(payload: Buffer | string): ParsedJson {
  const text = toText(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new GroupJsonError(`the payload is not valid JSON: ${detail}`);
  }
  return { value, keys: scanKeys(text) };
}

/** What a JSON value is, in words, for messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
