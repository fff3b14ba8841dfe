/**
 * @module proxy/group
 * A request whose target is a group (RFC 7390 §2.9; groupcomm-proxy §5.2.1), checked in the
 * draft's order: group forwarding not configured, 5.01 (RFC 7390 §2.9, groupcomm-bis §3.5.1);
 * the client not allow-listed for this group, 4.01 (step 2), before Multicast-Timeout missing,
 * 4.00 with an empty Multicast-Timeout and a diagnostic (step 3); then the options (4.02, 5.08)
 * and the limits (5.03 with Max-Age). T' is the option's value clamped to the configured cap.
 * A GET or FETCH whose set of member responses in the cache is complete is answered from there
 * (§7.1): a single 2.03 with the Group-ETag when the client's matches (§7.3), else every
 * member's stored response. Otherwise the request is acknowledged at once (an empty ACK for a
 * CON) and forwarded (proxy/group-forward). None of the proxy's own answers has Reply-From.
 */
import type { MessageParts } from '../client/exchanger.js';
import { Code, Method } from '../message/codes.js';
import type { CoapOption } from '../message/types.js';
import { EMPTY } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { decodeUint, encodeUint, findOption, findOptions, uintOption } from '../options/values.js';
import type { Responder } from '../server/responder.js';
import type { InboundRequest } from '../server/site.js';
import type { Address } from '../transport/types.js';
import type { CoapUri } from '../uri/index.js';
import { answer, clientKey, forwardingKey, own, type ProxyState, unavailable } from './context.js';
import { forwardOptions, HOP_LIMIT_REACHED, unknownUnsafe } from './forward-options.js';
import type { GroupCache, GroupRequestKey, GroupSet } from './group-cache.js';
import { GroupForwarding } from './group-forward.js';
import { groupKey } from './membership.js';
import { Relay } from './relay.js';

/** A target that is a group: a multicast address and port. */
export interface GroupTarget {
  readonly uri: CoapUri;
  readonly dest: Address;
  /** The request's options without Proxy-* and Uri-*. */
  readonly others: CoapOption[];
}

/** The diagnostic of the 4.00 for a missing Multicast-Timeout (proxy brief §11 vector). */
export const MT_REQUIRED = 'Multicast-Timeout required';

/** T' from the request: seconds, or a refusal. */
function timeoutOf(state: ProxyState, options: readonly CoapOption[]): number | string {
  const o = findOption(options, state.config.numbers.multicastTimeout);
  if (o === undefined) return MT_REQUIRED;
  if (o.value.length > 4) return 'Multicast-Timeout is a uint of 0-4 bytes';
  // groupcomm-proxy §5.2.1 step 4; a value over the cap is clamped, not refused (the client stops at T > T').
  return Math.min(decodeUint(o.value), state.config.groups?.maxTimeout ?? 60);
}

function withMaxAge(options: readonly CoapOption[], seconds: number): CoapOption[] {
  return [
    ...options.filter((o) => o.number !== Opt.MaxAge),
    { number: Opt.MaxAge, value: encodeUint(seconds) },
  ];
}

/** Answers from a complete set (groupcomm-proxy §7.1, §7.3); the exchange is over afterwards. */
function fromCache(
  state: ProxyState,
  req: InboundRequest,
  res: Responder,
  set: GroupSet,
  timeout: number,
): void {
  const numbers = state.config.numbers;
  const tag = set.tag!;
  const asked = findOptions(req.message.options, numbers.groupETag);
  state.counters.cacheHits++;
  if (asked.some((o) => o.value.equals(tag))) {
    // §7.3: "a single 2.03 (Valid) response … MUST include one Group-ETag Option"; no ETag (docs/proxy.md).
    const options = withMaxAge([{ number: numbers.groupETag, value: tag }], set.maxAge);
    return answer(res, { code: Code.Valid, options, payload: EMPTY });
  }
  res.finish();
  if (timeout === 0) return;
  const relay = new Relay(res, req.message, () => {});
  for (const e of set.entries.values()) {
    const options = withMaxAge(
      [...e.options, { number: numbers.groupETag, value: tag }],
      state.cache.remaining(e),
    );
    if (
      relay.send({ code: e.code, options: options.sort((a, b) => a.number - b.number), payload: e.payload })
    )
      state.counters.relayed++;
  }
  relay.close();
}

/** Handles a request to a group target. */
export function forwardGroup(
  state: ProxyState,
  req: InboundRequest,
  res: Responder,
  t: GroupTarget,
  groupCache: GroupCache,
): void {
  const groups = state.config.groups;
  if (groups === undefined)
    return answer(
      res,
      own(Code.NotImplemented, 'this proxy does not forward requests to groups (RFC 7390 §2.9)'),
      state,
    );
  const msg = req.message;
  const numbers = state.config.numbers;
  const hidden = findOption(msg.options, Opt.Oscore) !== undefined;
  const client = { address: req.remote.address, security: req.security };
  if (!groups.allow.allows(client, t.dest.address, t.dest.port, t.uri.path, hidden))
    return answer(
      res,
      own(Code.Unauthorized, 'this client may not have requests forwarded to this group'),
      state,
    );
  const timeout = timeoutOf(state, msg.options);
  if (typeof timeout === 'string') {
    const mt: CoapOption[] = [{ number: numbers.multicastTimeout, value: EMPTY }];
    return answer(res, own(Code.BadRequest, timeout, mt), state);
  }
  const bad = unknownUnsafe(t.others, numbers);
  if (bad !== undefined)
    return answer(res, own(Code.BadOption, `unsafe option ${bad} is not known to this proxy`), state);
  const options = forwardOptions(t.others, t.uri, t.dest, numbers);
  if (options === 'hop-limit')
    return answer(res, own(HOP_LIMIT_REACHED, 'Hop-Limit reached at this proxy'), state);
  const group = groupKey(t.dest.address, t.dest.port);
  const refusal = state.limiter.admitGroup(clientKey(req.remote), group);
  if (refusal !== undefined) return answer(res, unavailable(refusal.retryAfter, refusal.reason), state);
  const fetchOrGet = msg.code === Method.GET || msg.code === Method.FETCH;
  const observe = fetchOrGet && uintOption(msg.options, Opt.Observe) === 0;
  // RFC 8613 §10: protected requests and their responses are not cached; nor are notifications.
  const cacheKey: GroupRequestKey | undefined =
    fetchOrGet && !hidden && !observe && state.cache.enabled
      ? { method: msg.code, uri: t.uri, others: t.others, payload: msg.payload }
      : undefined;
  if (cacheKey !== undefined && state.members !== undefined) {
    const set = groupCache.set(cacheKey, state.members.of(group));
    if (set?.complete) {
      state.limiter.releaseGroup(clientKey(req.remote));
      return fromCache(state, req, res, set, timeout);
    }
  }
  const parts: MessageParts = { code: msg.code, options, payload: msg.payload };
  const forwarding = new GroupForwarding(
    state,
    {
      key: forwardingKey(req.remote, msg.token),
      client: req.remote,
      group,
      dest: t.dest,
      parts,
      timeout,
      received: state.runtime.now(),
      observe,
      protected: hidden,
      cacheKey,
      groupCache,
    },
    res,
    msg,
  );
  if (!forwarding.enqueue()) {
    forwarding.cancel();
    return answer(res, unavailable(1, 'too many requests wait for this group'), state);
  }
  // RFC 7252 §5.2.2: no piggybacked response will come; the relayed ones are separate.
  res.finish();
}

/**
 * A deregistration on an active token (RFC 7641 §3.6: a GET with Observe 1 and otherwise the
 * registration's options): what goes to the group and T' for its answers; undefined when
 * Hop-Limit runs out here.
 */
export function deregistrationOf(
  state: ProxyState,
  req: InboundRequest,
  t: GroupTarget,
): { parts: MessageParts; timeout: number } | undefined {
  const msg = req.message;
  const timeout = timeoutOf(state, msg.options);
  const fwd = forwardOptions(t.others, t.uri, t.dest, state.config.numbers);
  if (fwd === 'hop-limit') return undefined;
  return {
    parts: { code: msg.code, options: fwd, payload: msg.payload },
    timeout: typeof timeout === 'number' ? timeout : 0,
  };
}
