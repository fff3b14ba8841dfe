/**
 * @module client/group
 * One group request and its responses (RFC 7390 §2.5, RFC 7252 §8.2): a NON request with a fresh
 * random token of 8 bytes, then every response that carries the token, from any source, until
 * the window closes, the limit is reached or the signal aborts. Late responses find no token and
 * are rejected by the message layer. NSTART = 1 per group (groupcomm-bis §3.6.1): the next
 * request to the same group waits for this window to close. A group that answered nothing is
 * probed no faster than PROBING_RATE (RFC 7252 §4.7). A stage above the core's exchanger: the
 * request is one `stream` (client/exchanger), which a layer may refuse before anything is sent.
 *
 * Through a proxy (draft-ietf-core-groupcomm-proxy §5.1, §5.5; client/group-proxy) the request
 * goes by unicast to the proxy, CON by default, with Multicast-Timeout T' from `window` in whole
 * seconds; the client listens T' plus a margin. Each relayed response is yielded as its member's
 * (Reply-From), with `via` the proxy. The proxy's own refusal ends the iteration with
 * `ProxyAnswerError`; its 2.03 for the stored set (Group-ETag, §7.3) yields that set again.
 * Ending early (limit, abort, leaving the loop, an observation's end) sends an Early Stop
 * Request (§5.1.3).
 */
import { encodeBlock } from '../block/index.js';
import { CoapAbortError, CoapClosedError, CoapTimeoutError, InvalidArgumentError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { decodeUint, encodeUint, findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import type { CoapUri } from '../uri/index.js';
import { peerKey } from '../util/peer-key.js';
import type { Scheduled } from '../util/timer-queue.js';
import { bodyAndOptions, methodCode } from './build.js';
import type { ClientCore } from './core.js';
import type { ResponseStream } from './exchanger.js';
import { DIRECT, GroupCollector } from './group-collect.js';
import { type GroupRequestOptions, groupSzx } from './group-options.js';
import { checkGroupRequest } from './group-policy.js';
import {
  earlyStop,
  followUpRoute,
  type GroupVia,
  groupRoute,
  groupVia,
  judgeProxyAnswer,
  storedSetKey,
  targetOptions,
} from './group-proxy.js';
import { GroupResponse, GroupResponses, type GroupSummary } from './group-response.js';
import { SetCollector } from './group-sets.js';
import { waitForProbingBudget } from './probing.js';
import { ProxyAnswerError } from './proxy-answer-error.js';
import { multicastTimeoutOf } from './proxy-route.js';
import { parseRequestUri } from './scheme.js';

export { type GroupRequestOptions, GroupResponse, GroupResponses, type GroupSummary };

/** @internal Validates synchronously, then sends and collects in the background. */
export function startGroupRequest(core: ClientCore, o: GroupRequestOptions): GroupResponses {
  // `coaps` is refused by checkGroupRequest with its own code (RFC 7390 §5.1).
  const uri = parseRequestUri(o.uri, { group: true });
  const code = methodCode(o.method);
  const via = groupVia(core, o);
  const { payload, options } = bodyAndOptions(o);
  // Through a proxy the hop is unicast: CON is allowed there (RFC 7252 §8.1 is about multicast).
  const confirmable = via.kind === 'direct' ? o.confirmable : undefined;
  checkGroupRequest({ uri, confirmable, options, groupcommBis: o.groupcommBis ?? false });
  if (o.window !== undefined && via.kind !== 'direct') multicastTimeoutOf(o.window);
  if (o.revalidate && via.kind === 'direct')
    throw new InvalidArgumentError(
      'revalidate needs a proxy: Group-ETag is answered by proxies (groupcomm-proxy §7.3)',
    );
  // groupcomm-proxy §5.1.1 step 3: T' = 0 wants no responses, so say so with No-Response 26.
  if (o.window === 0 && via.kind !== 'direct' && findOption(options, Opt.NoResponse) === undefined)
    options.push({ number: Opt.NoResponse, value: encodeUint(26) });
  if (o.observe) options.push({ number: Opt.Observe, value: encodeUint(0) });
  if (o.blockSize !== undefined) {
    // RFC 7959 §2.8, RFC 7390 §2.8: Block2 NUM=0 caps every member's response at one block.
    options.push({
      number: Opt.Block2,
      value: encodeBlock({ num: 0, more: false, szx: groupSzx(o.blockSize) }),
    });
  }
  options.sort((a, b) => a.number - b.number);
  const out = new GroupResponses();
  run(core, o, via, uri, code, payload, options, out).catch((err: Error) => {
    // Aborting or closing while queued behind NSTART ends the request as it would in flight.
    const bySignal =
      err instanceof CoapAbortError || (err instanceof CoapTimeoutError && err.cause === o.signal?.reason);
    const quiet = bySignal || err instanceof CoapClosedError;
    const reason = err instanceof CoapClosedError ? 'closed' : 'aborted';
    out.end(
      {
        responses: out.count,
        endpoints: out.endpoints.size,
        elapsedMs: 0,
        reason,
        ...(bySignal ? { cause: o.signal?.reason } : {}),
      },
      quiet ? undefined : err,
    );
  });
  return out;
}

async function run(
  core: ClientCore,
  o: GroupRequestOptions,
  via: GroupVia,
  uri: CoapUri,
  code: number,
  payload: Buffer,
  options: CoapMessage['options'],
  out: GroupResponses,
): Promise<void> {
  const m = core.messenger;
  const { dest, hop } = await groupRoute(core, via, uri, o.allowWideScope ?? false);
  const proxied = hop !== undefined;
  options.push(...targetOptions(via, uri, dest));
  const n = core.proxyOptions;
  const setKey =
    o.revalidate && hop !== undefined ? storedSetKey(core, hop, code, options, payload) : undefined;
  const stored = setKey === undefined ? undefined : core.groupSets.get(setKey);
  if (stored !== undefined) options.push({ number: n.groupETag, value: stored.tag });
  options.sort((a, b) => a.number - b.number);
  const key = hop === undefined ? `group|${peerKey(dest)}` : `group|${peerKey(dest)}|via|${peerKey(hop)}`;
  await core.peers.acquire(key, o.signal);
  let released = false;
  const release = () => {
    if (!released) core.peers.release(key);
    released = true;
  };
  if (o.signal?.aborted || core.isClosed() || out.ended) {
    release();
    out.end({ responses: 0, endpoints: 0, elapsedMs: 0, ...stopped(core, o) });
    return;
  }
  try {
    await waitForProbingBudget(core, key, dest, o.signal);
  } catch (err) {
    release();
    throw err;
  }
  if (o.signal?.aborted || core.isClosed() || out.ended) {
    release();
    out.end({ responses: 0, endpoints: 0, elapsedMs: 0, ...stopped(core, o) });
    return;
  }
  const sentAt = m.runtime.now();
  let timer: Scheduled | undefined;
  let finished = false;
  let draining = false;
  // Filled in once the stream exists: the collector's continuations go through it.
  let stream: ResponseStream | undefined;
  const set = setKey === undefined ? undefined : new SetCollector(n.groupETag);
  const collector = new GroupCollector(
    core.runtime,
    uri,
    code,
    options,
    sentAt,
    (remote) => stream!.followUpExchanger(remote),
    (r) => {
      if (finished && !draining) return;
      set?.note(r, r.source);
      out.push(r);
      if (o.limit !== undefined && out.count >= o.limit) finish('limit');
    },
    hop === undefined ? DIRECT : followUpRoute(via, uri, hop, n),
  );
  /** The deregistrations of an observation, once it ends (client close waits for them). */
  let deregistered = Promise.resolve();
  const onAbort = () => finish('aborted', undefined, o.signal?.reason);
  const finish = (reason: GroupSummary['reason'], err?: Error, cause?: unknown) => {
    if (finished || stream === undefined) return;
    finished = true;
    m.timers.cancel(timer);
    const nr = findOption(options, Opt.NoResponse);
    const relaying = reason !== 'refused' && reason !== 'revalidated' && reason !== 'no-response';
    if (hop !== undefined) {
      // groupcomm-proxy §5.1.3: the proxy may still relay (it stops at T' on its own, an
      // observation never): ask it to stop. Members are deregistered by the proxy, not by us.
      if (relaying && (reason !== 'window' || o.observe)) deregistered = earlyStop(core, stream.token, hop);
    } else if (o.observe) deregistered = collector.deregisterAll(stream);
    // RFC 7390 §2.5: the token stays out of use for the reuse interval after the window.
    stream.close(true);
    o.signal?.removeEventListener('abort', onAbort);
    // A request that asked for no responses is silent by design, not a group that does not answer.
    if (out.count === 0 && reason === 'window' && nr === undefined)
      core.silentGroups.note(key, sentAt, stream.size, m.params.probingRate);
    release();
    if (set !== undefined && reason === 'window') {
      const result = set.result();
      if (result === undefined) core.groupSets.delete(setKey!);
      else core.groupSets.put(setKey!, result);
    }
    // Block-wise continuations already under way finish before the iteration ends.
    draining = reason === 'window';
    const summary = () => ({
      responses: out.count,
      endpoints: out.endpoints.size,
      elapsedMs: m.runtime.now() - sentAt,
      reason,
      ...(cause !== undefined ? { cause } : {}),
    });
    if (!draining) return out.end(summary(), err);
    collector.whenIdle().then(() => out.end(summary(), err));
  };
  /** groupcomm-proxy §5.5.1, §7.3: an answer of the proxy itself (no Reply-From). */
  const proxyAnswer = (msg: CoapMessage, proxy: Address) => {
    if (finished) return;
    const answer = judgeProxyAnswer(core, msg, proxy, stored);
    if (answer === undefined) return;
    if (answer instanceof ProxyAnswerError) return finish('refused', answer);
    const elapsed = m.runtime.now() - sentAt;
    for (const r of answer)
      out.push(new GroupResponse(r.message, r.source, elapsed, uri, undefined, hop, true));
    finish('revalidated');
  };
  const window = o.window;
  try {
    // A layer may refuse the request here (e.g. no protection for this group): nothing is sent.
    stream = core.exchanger.stream(
      {
        dest,
        parts: { code, options, payload },
        kind: 'group',
        confirmable: proxied ? (o.confirmable ?? findOption(options, Opt.NoResponse) === undefined) : false,
        unprotected: o.unprotected,
        ...(hop !== undefined ? { proxy: hop } : {}),
        ...(hop !== undefined && window !== undefined
          ? { multicastTimeout: multicastTimeoutOf(window) }
          : {}),
      },
      {
        response: (msg, remote) => {
          if (!finished) collector.take(msg, remote);
        },
        proxyAnswer,
        error: (err) => finish('aborted', err),
        end: () => {
          finish('closed');
          return deregistered;
        },
      },
    );
  } catch (err) {
    release();
    throw err;
  }
  out.cleanup = (reason) => finish(reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const nr = findOption(options, Opt.NoResponse);
  // RFC 7967 §2.1: with every class disclaimed, the client should stop listening.
  if (nr !== undefined && (decodeUint(nr.value) & 26) === 26) {
    queueMicrotask(() => finish('no-response'));
    return;
  }
  if (hop !== undefined) {
    // groupcomm-proxy §5.1.1 step 2-3: listen T = T' + margin; an observation lasts past T once
    // some member registered (§5.5.2), until cancelled or its own window ends.
    const t = (stream.multicastTimeout ?? 0) * 1000 + core.proxyMargin;
    timer = m.timers.schedule(t, () => {
      if (o.observe && window === undefined && collector.hasRegistrations) return;
      finish('window');
    });
    return;
  }
  // An observation lasts until it is cancelled, unless a window is given.
  const leisure = stream.leisure ?? m.params.defaultLeisure;
  const w = o.window ?? (o.observe ? undefined : (leisure + 1) * 1000);
  if (w !== undefined) timer = m.timers.schedule(w, () => finish('window'));
}

/** Why a request ends before it was sent: the client closed, or it was aborted (by its signal?). */
function stopped(core: ClientCore, o: GroupRequestOptions): Pick<GroupSummary, 'reason' | 'cause'> {
  if (core.isClosed()) return { reason: 'closed' };
  return o.signal?.aborted ? { reason: 'aborted', cause: o.signal.reason } : { reason: 'aborted' };
}
