/**
 * @module group-config/state-file
 * The persisted form of the Group Configuration resource (RFC 7390 §2.6.2): the memberships in
 * their `application/coap-group+json` text (RFC 7390 §2.6.2.1), in order, and the position of
 * the index allocator, so a restarted node neither forgets a group nor hands out an index a
 * client may still hold (RFC 7390 §2.6.2.2, §2.6.2.6). Pure: bytes to state and back.
 *
 * ```json
 * {
 *   "version": 1,
 *   "next": 3,
 *   "groups": [
 *     ["1", {"a":"239.1.2.3"}],
 *     ["2", {"n":"lights.example.com"}]
 *   ]
 * }
 * ```
 * Pairs, not an object: a JS object lists integer-like keys ("2", "10") in numeric order, and
 * GET should answer in the order the memberships were made.
 */
import { formatMembership, INDEX_SPACE_SIZE, parseCollection } from '../group-json/index.js';
import { isJsonObject, readJson } from '../group-json/strict-json.js';
import type { MembershipCollection } from '../group-json/types.js';
import { GroupStateError } from './errors.js';

/** What is persisted. */
export interface GroupConfigState {
  /** Index (lower case) to membership, in creation order (RFC 7390 §2.6.2.4). */
  readonly groups: MembershipCollection;
  /** Ordinal where the next index search starts (`indexOrdinal` of the last one handed out, plus one). */
  readonly next: number;
}

/** The version this code writes and reads. */
export const STATE_VERSION = 1;

/** A state with no memberships. */
export function emptyState(): GroupConfigState {
  return { groups: new Map(), next: 0 };
}

/** The state as file bytes: UTF-8 JSON, one membership per line, canonical text (R44). */
export function encodeState(s: GroupConfigState): Buffer {
  const lines = [...s.groups].map(([i, m]) => `    [${JSON.stringify(i)}, ${formatMembership(m)}]`);
  const groups = lines.length === 0 ? '[]' : `[\n${lines.join(',\n')}\n  ]`;
  return Buffer.from(`{\n  "version": ${STATE_VERSION},\n  "next": ${s.next},\n  "groups": ${groups}\n}\n`);
}

/** True when both states would be written as the same bytes. */
export function sameState(a: GroupConfigState, b: GroupConfigState): boolean {
  return encodeState(a).equals(encodeState(b));
}

function corrupt(path: string, what: string, cause?: unknown): GroupStateError {
  // One line: JSON.parse quotes the text it choked on, newlines included.
  return new GroupStateError(
    'ERR_COAP_GROUP_STATE_CORRUPT',
    path,
    `the group configuration state ${path} is corrupt: ${what.replace(/\s*\n\s*/g, ' ')}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads state file bytes. Everything is checked before anything is returned, with the same
 * strict codec the resource uses, so a state that loads is a state the resource would accept.
 * @throws GroupStateError `ERR_COAP_GROUP_STATE_CORRUPT`, naming `path` and what is wrong.
 */
export function decodeState(bytes: Buffer, path: string): GroupConfigState {
  if (bytes.length === 0) throw corrupt(path, 'the file is empty');
  let doc: unknown;
  try {
    doc = readJson(bytes).value;
  } catch (err) {
    throw corrupt(path, (err as Error).message.replace(/^the payload/, 'the file'), err);
  }
  if (!isJsonObject(doc)) throw corrupt(path, 'the top level is not a JSON object');
  for (const k of Object.keys(doc)) {
    if (k !== 'version' && k !== 'groups' && k !== 'next')
      throw corrupt(path, `unknown key ${JSON.stringify(k)}`);
  }
  if (doc.version !== STATE_VERSION) {
    throw corrupt(path, `version ${JSON.stringify(doc.version)} is not ${STATE_VERSION}`);
  }
  const next = doc.next;
  if (typeof next !== 'number' || !Number.isInteger(next) || next < 0 || next >= INDEX_SPACE_SIZE) {
    throw corrupt(path, `"next" must be an integer from 0 to ${INDEX_SPACE_SIZE - 1}`);
  }
  if (!Array.isArray(doc.groups)) throw corrupt(path, '"groups" is not an array');
  const parts: string[] = [];
  for (const [k, pair] of doc.groups.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isJsonObject(pair[1])) {
      throw corrupt(path, `groups[${k}] is not an [index, membership] pair`);
    }
    parts.push(`${JSON.stringify(pair[0])}:${JSON.stringify(pair[1])}`);
  }
  try {
    // The collection codec checks indexes (valid, unique ignoring case) and every membership.
    return { groups: parseCollection(`{${parts.join(',')}}`), next };
  } catch (err) {
    throw corrupt(path, (err as Error).message, err);
  }
}
