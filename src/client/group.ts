/**
 * @module client/group
 * One group request and its responses (RFC 7390 §2.5, RFC 7252 §8.2): a NON request with a fresh
 * random token of 8 bytes, then every response that carries the token, from any source, until
 * the window closes, the limit is reached or the signal aborts. Late responses find no token and
 * are rejected by the message layer. NSTART = 1 per group (groupcomm-bis §3.6.1): the next
 * request to the same group waits for this window to close. A group that answered nothing is
 * probed no faster than PROBING_RATE (RFC 7252 §4.7). A stage above the core's exchanger: the
 * request is one `stream` (client/exchanger), which a layer may refuse before anything is sent.
 */
import diagnostics from 'node:diagnostics_channel';
import { encodeBlock, sizeToSzx } from '../block/index.js';
import {
  CoapAbortError,
  CoapClosedError,
  CoapTimeoutError,
  GroupRequestError,
  InvalidArgumentError,
} from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { decodeUint, encodeUint, findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import { peerKey } from '../util/peer-key.js';
import type { Scheduled } from '../util/timer-queue.js';
import { bodyAndOptions, methodCode, type RequestOptions } from './build.js';
import type { ClientCore } from './core.js';
import type { ResponseStream } from './exchanger.js';
import { GroupCollector } from './group-collect.js';
import { checkGroupRequest, checkNotBroadcast, checkScope } from './group-policy.js';
import { GroupResponse, GroupResponses, type GroupSummary } from './group-response.js';
import { resolveHost } from './resolve.js';
import { parseRequestUri } from './scheme.js';

export { GroupResponse, GroupResponses, type GroupSummary };

/** `{ group, port, waitMs }` when a request to a silent group waits for PROBING_RATE. */
const waitChannel = diagnostics.channel('coap:group:wait');

/** Options of a group request. */
export interface GroupRequestOptions extends RequestOptions {
  /** How long to collect responses, ms. Default: DEFAULT_LEISURE + 1 s (RFC 7252 §8.2). */
  window?: number;
  /** Stop after this many responses. */
  limit?: number;
  /** Must not be true: group requests are NON (RFC 7252 §8.1). */
  confirmable?: boolean;
  /** Allow an ETag (groupcomm-bis §3.2.1 reverses RFC 7252 §8.2.1). */
  groupcommBis?: boolean;
  /** Allow scopes wider than site-local (RFC 7390 §5.4.2). */
  allowWideScope?: boolean;
  /**
   * Observe every member (groupcomm-bis §3.7): notifications are yielded, tagged with their
   * source, until the signal aborts, the loop is left, or `window` (if given) ends; then every
   * responder is deregistered by unicast.
   */
  observe?: boolean;
  /** Ask every member for blocks of this size (16-1024); later blocks come by unicast. */
  blockSize?: number;
}

function groupSzx(size: number): number {
  try {
    return sizeToSzx(size);
  } catch {
    throw new InvalidArgumentError(`blockSize ${size} must be a power of two from 16 to 1024`);
  }
}

/** @internal Validates synchronously, then sends and collects in the background. */
export function startGroupRequest(core: ClientCore, o: GroupRequestOptions): GroupResponses {
  // `coaps` is refused by checkGroupRequest with its own code (RFC 7390 §5.1).
  const uri = parseRequestUri(o.uri, { group: true });
  const code = methodCode(o.method);
  const { payload, options } = bodyAndOptions(o);
  checkGroupRequest({ uri, confirmable: o.confirmable, options, groupcommBis: o.groupcommBis ?? false });
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
  run(core, o, uri, code, payload, options, out).catch((err: Error) => {
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
  uri: CoapUri,
  code: number,
  payload: Buffer,
  options: CoapMessage['options'],
  out: GroupResponses,
): Promise<void> {
  const m = core.messenger;
  const address = await resolveHost(uri.host, core.resolver);
  checkNotBroadcast(address, core.broadcasts);
  if (!isMulticast(address)) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_NOT_MULTICAST',
      `${uri.host} is not a multicast address; send unicast requests with request()`,
    );
  }
  checkScope(address, core.hops, o.allowWideScope ?? false);
  const dest: Address = { address, port: uri.port };
  options.push(...uriToOptions(uri, dest));
  const key = `group|${peerKey(dest)}`;
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
  const collector = new GroupCollector(
    core.runtime,
    uri,
    code,
    options,
    sentAt,
    (remote) => stream!.followUpExchanger(remote),
    (r) => {
      if (finished && !draining) return;
      out.push(r);
      if (o.limit !== undefined && out.count >= o.limit) finish('limit');
    },
  );
  /** The deregistrations of an observation, once it ends (client close waits for them). */
  let deregistered = Promise.resolve();
  const onAbort = () => finish('aborted', undefined, o.signal?.reason);
  const finish = (reason: GroupSummary['reason'], err?: Error, cause?: unknown) => {
    if (finished || stream === undefined) return;
    finished = true;
    m.timers.cancel(timer);
    if (o.observe) deregistered = collector.deregisterAll(stream);
    // RFC 7390 §2.5: the token stays out of use for the reuse interval after the window.
    stream.close(true);
    o.signal?.removeEventListener('abort', onAbort);
    // A request that asked for no responses is silent by design, not a group that does not answer.
    const wanted = findOption(options, Opt.NoResponse) === undefined;
    if (out.count === 0 && reason === 'window' && wanted)
      core.silentGroups.note(key, sentAt, stream.size, m.params.probingRate);
    release();
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
  try {
    // A layer may refuse the request here (e.g. no protection for this group): nothing is sent.
    stream = core.exchanger.stream(
      {
        dest,
        parts: { code, options, payload },
        kind: 'group',
        confirmable: false,
        unprotected: o.unprotected,
      },
      {
        response: (msg, remote) => {
          if (!finished) collector.take(msg, remote);
        },
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
  // An observation lasts until it is cancelled, unless a window is given.
  const leisure = stream.leisure ?? m.params.defaultLeisure;
  const window = o.window ?? (o.observe ? undefined : (leisure + 1) * 1000);
  if (window !== undefined) timer = m.timers.schedule(window, () => finish('window'));
}

/** Why a request ends before it was sent: the client closed, or it was aborted (by its signal?). */
function stopped(core: ClientCore, o: GroupRequestOptions): Pick<GroupSummary, 'reason' | 'cause'> {
  if (core.isClosed()) return { reason: 'closed' };
  return o.signal?.aborted ? { reason: 'aborted', cause: o.signal.reason } : { reason: 'aborted' };
}

async function waitForProbingBudget(
  core: ClientCore,
  key: string,
  dest: Address,
  signal: AbortSignal | undefined,
): Promise<void> {
  const until = core.silentGroups.take(key);
  if (until === undefined) return;
  const m = core.messenger;
  const wait = until - m.runtime.now();
  if (wait <= 0) return;
  // Announced, so that a caller can tell a deliberate wait from a hang.
  if (waitChannel.hasSubscribers) waitChannel.publish({ group: dest.address, port: dest.port, waitMs: wait });
  await new Promise<void>((resolve) => {
    const t = m.timers.schedule(wait, () => {
      signal?.removeEventListener('abort', done);
      core.closing.removeEventListener('abort', done);
      resolve();
    });
    const done = () => {
      m.timers.cancel(t);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    core.closing.addEventListener('abort', done, { once: true });
  });
  if (core.isClosed()) throw new CoapClosedError();
}
