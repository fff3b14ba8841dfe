/**
 * @module client/group-sets
 * The client's half of Group-ETag revalidation (draft-ietf-core-groupcomm-proxy §7.3): for a
 * group request sent through a proxy with `revalidate`, the last set of responses (the last one
 * of each member) and the entity-tag the proxy gave that set, by request; the next such request
 * carries the tag, and a 2.03 from the proxy with that Group-ETag means "reuse the stored set",
 * each response updated with the 2.03's Max-Age (RFC 7252 §5.9.1.3). Bounded: the least
 * recently used request is forgotten first.
 */
import { type CoapMessage, type CoapOption, MessageType } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { peerKey } from '../util/peer-key.js';

/** Requests whose last set is kept at most. */
export const MAX_STORED_SETS = 64;

/** One stored response of a set: the message as relayed and the member it came from. */
export interface StoredResponse {
  readonly message: CoapMessage;
  readonly source: Address;
}

/** The last set of one request and the Group-ETag the proxy gave it. */
export interface StoredSet {
  readonly tag: Buffer;
  readonly responses: readonly StoredResponse[];
}

/** The stored sets of one client, by request key. */
export class GroupSets {
  readonly #sets = new Map<string, StoredSet>();

  /** The stored set of `key`, marked as most recently used; undefined when there is none. */
  get(key: string): StoredSet | undefined {
    const set = this.#sets.get(key);
    if (set === undefined) return undefined;
    this.#sets.delete(key);
    this.#sets.set(key, set);
    return set;
  }

  /** Keeps `set` for `key`, forgetting the least recently used one beyond the bound. */
  put(key: string, set: StoredSet): void {
    this.#sets.delete(key);
    if (this.#sets.size >= MAX_STORED_SETS) this.#sets.delete(this.#sets.keys().next().value as string);
    this.#sets.set(key, set);
  }

  /** Forgets the set of `key` (its last request gave no tag). */
  delete(key: string): void {
    this.#sets.delete(key);
  }

  get size(): number {
    return this.#sets.size;
  }
}

/**
 * The key of a revalidated request: the proxy, the method, the options that select the
 * representation (the target URI among them), and the payload; not the options that are per
 * request or per hop (groupcomm-proxy §7: Multicast-Timeout and Group-ETag are interpreted by
 * the proxy; Observe, Block2 and No-Response change how, not what, is asked).
 */
export function setKey(
  proxy: Address,
  code: number,
  options: readonly CoapOption[],
  payload: Buffer,
  skip: readonly number[],
): string {
  const parts = [peerKey(proxy), String(code)];
  for (const o of options) {
    if (
      skip.includes(o.number) ||
      o.number === Opt.Observe ||
      o.number === Opt.Block2 ||
      o.number === Opt.NoResponse
    )
      continue;
    parts.push(`${o.number}=${o.value.toString('hex')}`);
  }
  parts.push(payload.toString('hex'));
  return parts.join('|');
}

/** Collects the set of one request as its responses come: the last one of each member, and the last tag. */
export class SetCollector {
  readonly #last = new Map<string, StoredResponse>();
  #tag: Buffer | undefined;
  readonly #groupETag: number;

  constructor(groupETag: number) {
    this.#groupETag = groupETag;
  }

  /** Notes a relayed response; a Group-ETag on it (one at most, §7.3) tags the set so far. */
  note(
    r: {
      readonly code: number;
      readonly options: readonly CoapOption[];
      readonly payload: Buffer;
      readonly token: Buffer;
    },
    source: Address,
  ): void {
    const message: CoapMessage = {
      type: MessageType.NON,
      messageId: 0,
      token: r.token,
      code: r.code,
      options: [...r.options],
      payload: r.payload,
    };
    this.#last.set(peerKey(source), { message, source: { address: source.address, port: source.port } });
    const tag = findOption(r.options, this.#groupETag);
    if (tag !== undefined) this.#tag = Buffer.from(tag.value);
  }

  /** The tagged set, or undefined when the proxy tagged none. */
  result(): StoredSet | undefined {
    if (this.#tag === undefined) return undefined;
    return { tag: this.#tag, responses: [...this.#last.values()] };
  }
}

/**
 * A stored response brought up to date by a 2.03 (RFC 7252 §5.9.1.3): its Max-Age replaced by
 * the 2.03's (60 s when the 2.03 has none, §5.10.5).
 */
export function refreshed(stored: CoapMessage, valid: CoapMessage): CoapMessage {
  const maxAge = findOption(valid.options, Opt.MaxAge)?.value ?? encodeUint(60);
  const options = stored.options.filter((o) => o.number !== Opt.MaxAge);
  options.push({ number: Opt.MaxAge, value: maxAge });
  options.sort((a, b) => a.number - b.number);
  return { ...stored, options };
}
