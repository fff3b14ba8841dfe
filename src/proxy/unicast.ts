/**
 * @module proxy/unicast
 * Forwarding to one origin server (RFC 7252 §5.7), with the cache (§5.6): a fresh stored
 * response answers at once, with Max-Age reduced by its age (§5.6.1); a client's ETag matching
 * it gets 2.03 (§5.10.6.2); a stale one with an ETag is validated by adding that ETag to the
 * forwarded GET, and a 2.03 refreshes it (§5.6.2, §5.9.1.3). Methods that change a resource
 * mark what is stored for it not fresh (§5.9.1). The origin not answering in time is a 5.04; a
 * response the proxy cannot process (an unsafe option it does not recognize) or no response
 * at all (a Reset, no route) is a 5.02 (§5.7.1, §5.9.3.3, §5.9.3.5). Token, Message ID and type
 * are the proxy's own on each leg.
 */
import { CoapTimeoutError } from '../errors.js';
import { Code, Method } from '../message/codes.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { ResponseParts } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption, findOptions } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import type { InboundRequest } from '../server/site.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, formatUri } from '../uri/index.js';
import { type CacheEntry, cacheKey, isCacheable } from './cache.js';
import { answer, clientKey, own, type ProxyState, unavailable } from './context.js';
import { forwardOptions, HOP_LIMIT_REACHED, unknownUnsafe } from './forward-options.js';

/** A target resolved to one origin server. */
export interface UnicastTarget {
  readonly uri: CoapUri;
  readonly dest: Address;
  /** The request's options without Proxy-* and Uri-*. */
  readonly others: CoapOption[];
}

/** RFC 7252 §5.9.1.1, §5.9.1.2, §5.9.1.4: responses that make a stored response for the resource stale. */
const CHANGES = new Set<number>([Code.Created, Code.Deleted, Code.Changed]);

function withMaxAge(options: readonly CoapOption[], seconds: number): CoapOption[] {
  const out = options.filter((o) => o.number !== Opt.MaxAge);
  out.push({ number: Opt.MaxAge, value: encodeUint(seconds) });
  return out.sort((a, b) => a.number - b.number);
}

/** A stored response as served: Max-Age what is left of it. */
function served(state: ProxyState, e: CacheEntry): ResponseParts {
  return { code: e.code, options: withMaxAge(e.options, state.cache.remaining(e)), payload: e.payload };
}

/** 2.03 for a client whose ETag matches (RFC 7252 §5.10.6.2). */
function valid(state: ProxyState, e: CacheEntry): ResponseParts {
  const options: CoapOption[] = [{ number: Opt.ETag, value: e.etag! }];
  return {
    code: Code.Valid,
    options: withMaxAge(options, state.cache.remaining(e)),
    payload: Buffer.alloc(0),
  };
}

const matches = (etags: readonly CoapOption[], tag: Buffer | undefined) =>
  tag !== undefined && etags.some((o) => o.value.equals(tag));

/** Forwards `req` to `t` and answers the client; resolves when done. */
export async function forwardUnicast(
  state: ProxyState,
  req: InboundRequest,
  res: Responder,
  t: UnicastTarget,
): Promise<void> {
  const refusal = state.limiter.admitUnicast(clientKey(req.remote));
  if (refusal !== undefined) return answer(res, unavailable(refusal.retryAfter, refusal.reason), state);
  const msg = req.message;
  const unknown = unknownUnsafe(t.others, state.config.numbers);
  if (unknown !== undefined)
    return answer(res, own(Code.BadOption, `unsafe option ${unknown} is not known to this proxy`), state);
  const cache = state.cache;
  // RFC 8613 §10: a protected request bypasses the cache; only GET and FETCH are stored.
  const cacheable =
    cache.enabled &&
    (msg.code === Method.GET || msg.code === Method.FETCH) &&
    findOption(msg.options, Opt.Oscore) === undefined &&
    findOption(msg.options, Opt.Observe) === undefined;
  const clientTags = findOptions(msg.options, Opt.ETag);
  const uriText = formatUri(t.uri);
  let key: string | undefined;
  let stored: CacheEntry | undefined;
  let validate: Buffer | undefined;
  if (cacheable) {
    key = cacheKey(msg.code, t.uri, t.others, msg.payload, state.config.numbers);
    stored = cache.get(key);
    if (stored !== undefined && cache.fresh(stored)) {
      state.counters.cacheHits++;
      return answer(res, matches(clientTags, stored.etag) ? valid(state, stored) : served(state, stored));
    }
    // RFC 7252 §5.6.2: validate a stale response by its ETag, unless the client asks with it already.
    if (stored?.etag !== undefined && !matches(clientTags, stored.etag)) validate = stored.etag;
  }
  // Only what is forwarded spends a hop (RFC 8768 §3); a stored answer does not.
  const options = forwardOptions(t.others, t.uri, t.dest, state.config.numbers);
  if (options === 'hop-limit')
    return answer(res, own(HOP_LIMIT_REACHED, 'Hop-Limit reached at this proxy'), state);
  const forwarded =
    validate === undefined
      ? options
      : [...options, { number: Opt.ETag, value: validate }].sort((a, b) => a.number - b.number);
  res.armAck();
  state.counters.unicastForwarded++;
  let response: CoapMessage;
  try {
    response = await state.outward.core.exchanger.request({
      dest: t.dest,
      parts: { code: msg.code, options: forwarded, payload: msg.payload },
      kind: 'unicast',
      confirmable: msg.type === MessageType.CON,
      timeout: state.config.unicastTimeoutMs,
    });
  } catch (err) {
    if (err instanceof CoapTimeoutError)
      return answer(res, own(Code.GatewayTimeout, `no answer from ${uriText}`), state);
    return answer(res, own(Code.BadGateway, `${uriText}: ${(err as Error).message}`), state);
  }
  const bad = unknownUnsafe(response.options, state.config.numbers);
  if (bad !== undefined)
    return answer(
      res,
      own(Code.BadGateway, `the origin's response has an unsafe option ${bad} this proxy does not know`),
      state,
    );
  const parts: ResponseParts = { code: response.code, options: response.options, payload: response.payload };
  if (CHANGES.has(response.code)) cache.invalidate(uriText);
  if (key === undefined) return answer(res, parts);
  if (response.code === Code.Valid && stored !== undefined) {
    const tag = findOption(response.options, Opt.ETag)?.value;
    if (tag !== undefined && stored.etag !== undefined && tag.equals(stored.etag)) {
      cache.validated(stored, response.options);
      // The client's own ETag matched: pass the 2.03 on; else the refreshed representation.
      return answer(res, matches(clientTags, tag) ? valid(state, stored) : served(state, stored));
    }
    // A 2.03 for one of the client's own ETags: nothing stored to refresh.
    return answer(res, parts);
  }
  if (isCacheable(response.code)) cache.put(key, uriText, parts);
  else cache.delete(key);
  answer(res, parts);
}
