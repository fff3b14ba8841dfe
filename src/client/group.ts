/**
 * @module client/group
 * One group request and its responses (RFC 7390 §2.5, RFC 7252 §8.2): a NON request with a fresh
 * random token of 8 bytes, then every response that carries the token, from any source, until
 * the window closes, the limit is reached or the signal aborts. Late responses find no token and
 * are rejected by the message layer. NSTART = 1 per group (groupcomm-bis §3.6.1): the next
 * request to the same group waits for this window to close. A group that answered nothing is
 * probed no faster than PROBING_RATE (RFC 7252 §4.7).
 */
import { CoapClosedError, GroupRequestError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { decodeUint, findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, resolveLocation, uriToOptions } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';
import type { Scheduled } from '../util/timer-queue.js';
import { bodyAndOptions, methodCode, type RequestOptions, toUri } from './build.js';
import type { CoapClient, TokenOwner } from './client.js';
import { checkGroupRequest, checkScope } from './group-policy.js';
import { resolveHost } from './resolve.js';
import { CoapResponse } from './response.js';

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
  /** The TTL / hop limit the transport uses, for the scope check; default 1. */
  hops?: number;
}

/** A response to a group request. */
export class GroupResponse extends CoapResponse {
  /** Milliseconds from sending the request to receiving this response. */
  readonly elapsedMs: number;
  /** RFC 7252 §8.2 / RFC 7390 §2.5 (R26): the request URI with the responder's address as host. */
  readonly baseUri: CoapUri;
  /** The Location-* options resolved against `baseUri`, if any. */
  readonly location: CoapUri | undefined;

  constructor(message: CoapMessage, source: Address, elapsedMs: number, requestUri: CoapUri) {
    super(message, source);
    this.elapsedMs = elapsedMs;
    this.baseUri = {
      ...requestUri,
      host: source.address,
      hostKind: source.address.includes(':') ? 'ipv6' : 'ipv4',
      port: source.port,
      explicitPort: true,
    };
    this.location = resolveLocation(requestUri, source, message.options);
  }
}

/** What a finished group request saw. */
export interface GroupSummary {
  readonly responses: number;
  readonly endpoints: number;
  readonly elapsedMs: number;
  /** Why collection ended. */
  readonly reason: 'window' | 'limit' | 'aborted' | 'no-response' | 'closed';
}

/** The responses of one group request, as an async iterable. Breaking out of the loop ends it. */
export class GroupResponses implements AsyncIterable<GroupResponse> {
  /** Resolves with the summary when collection ends. */
  readonly done: Promise<GroupSummary>;
  private readonly queue: GroupResponse[] = [];
  private waiter:
    | { resolve: (r: IteratorResult<GroupResponse>) => void; reject: (e: Error) => void }
    | undefined;
  private ended = false;
  private error: Error | undefined;
  private resolveDone!: (s: GroupSummary) => void;
  /** @internal */ cleanup: (reason: GroupSummary['reason']) => void = () => {};
  /** @internal */ readonly endpoints = new Set<string>();
  /** @internal */ count = 0;

  constructor() {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** @internal */
  push(r: GroupResponse): void {
    if (this.ended) return;
    this.count++;
    this.endpoints.add(`${r.source.address}|${r.source.port}`);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: r, done: false });
    } else this.queue.push(r);
  }

  /** @internal */
  end(summary: GroupSummary, error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.resolveDone(summary);
    const w = this.waiter;
    this.waiter = undefined;
    if (w && error && this.queue.length === 0) w.reject(error);
    else if (w) w.resolve({ value: undefined, done: true });
  }

  /** Collects every response into an array. */
  async collect(): Promise<GroupResponse[]> {
    const out: GroupResponse[] = [];
    for await (const r of this) out.push(r);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<GroupResponse> {
    return {
      next: () => {
        const r = this.queue.shift();
        if (r !== undefined) return Promise.resolve({ value: r, done: false });
        if (this.ended) {
          if (this.error) {
            const e = this.error;
            this.error = undefined;
            return Promise.reject(e);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        this.cleanup('aborted');
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** @internal Validates synchronously, then sends and collects in the background. */
export function startGroupRequest(client: CoapClient, o: GroupRequestOptions): GroupResponses {
  const uri = toUri(o.uri);
  const code = methodCode(o.method);
  const { payload, options } = bodyAndOptions(o);
  checkGroupRequest({ uri, confirmable: o.confirmable, options, groupcommBis: o.groupcommBis ?? false });
  const out = new GroupResponses();
  run(client, o, uri, code, payload, options, out).catch((err: Error) =>
    out.end({ responses: out.count, endpoints: out.endpoints.size, elapsedMs: 0, reason: 'aborted' }, err),
  );
  return out;
}

async function run(
  client: CoapClient,
  o: GroupRequestOptions,
  uri: CoapUri,
  code: number,
  payload: Buffer,
  options: CoapMessage['options'],
  out: GroupResponses,
): Promise<void> {
  const m = client.messenger;
  const address = await resolveHost(uri.host, client.resolver);
  if (!isMulticast(address)) {
    throw new GroupRequestError(
      'ERR_COAP_GROUP_NOT_MULTICAST',
      `${uri.host} is not a multicast address; send unicast requests with request()`,
    );
  }
  checkScope(address, o.hops ?? 1, o.allowWideScope ?? false);
  const dest: Address = { address, port: uri.port };
  options.push(...uriToOptions(uri, dest));
  const key = `group|${address}|${uri.port}`;
  await client.peers.acquire(key, o.signal);
  let released = false;
  const release = () => {
    if (!released) client.peers.release(key);
    released = true;
  };
  if (o.signal?.aborted || client.isClosed) {
    release();
    out.end({ responses: 0, endpoints: 0, elapsedMs: 0, reason: client.isClosed ? 'closed' : 'aborted' });
    return;
  }
  await waitForProbingBudget(client, key, o.signal);
  const sentAt = m.runtime.now();
  let timer: Scheduled | undefined;
  let finished = false;
  const owner: TokenOwner = {
    deliver: (msg, remote) => {
      if (finished) return false;
      out.push(new GroupResponse(msg, remote, m.runtime.now() - sentAt, uri));
      if (o.limit !== undefined && out.count >= o.limit) finish('limit');
      return true;
    },
    abort: () => finish('closed'),
  };
  const token = client.tokens.allocate(8, owner);
  const onAbort = () => finish('aborted');
  const finish = (reason: GroupSummary['reason'], err?: Error) => {
    if (finished) return;
    finished = true;
    m.timers.cancel(timer);
    outgoing.cancel();
    // RFC 7390 §2.5: the token stays out of use for the reuse interval after the window.
    client.tokens.release(token, true);
    o.signal?.removeEventListener('abort', onAbort);
    if (out.count === 0 && reason === 'window') noteSilentGroup(client, key, sentAt, payload.length + 20);
    release();
    out.end(
      { responses: out.count, endpoints: out.endpoints.size, elapsedMs: m.runtime.now() - sentAt, reason },
      err,
    );
  };
  out.cleanup = (reason) => finish(reason);
  const outgoing = m.send({ type: MessageType.NON, code, token, options, payload }, dest, undefined, {
    onError: (err) => finish('aborted', err),
  });
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const nr = findOption(options, Opt.NoResponse);
  // RFC 7967 §2.1: with every class disclaimed, the client should stop listening.
  if (nr !== undefined && (decodeUint(nr.value) & 26) === 26) {
    queueMicrotask(() => finish('no-response'));
    return;
  }
  const window = o.window ?? (m.params.defaultLeisure + 1) * 1000;
  timer = m.timers.schedule(window, () => finish('window'));
}

/** RFC 7252 §4.7: after a silent window, the next request waits until bytes / time <= PROBING_RATE. */
function noteSilentGroup(client: CoapClient, key: string, sentAt: number, bytes: number): void {
  const map = client.silentGroups;
  if (map.size >= 1024) map.delete(map.keys().next().value as string);
  map.set(key, sentAt + (bytes / client.messenger.params.probingRate) * 1000);
}

async function waitForProbingBudget(
  client: CoapClient,
  key: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const map = client.silentGroups;
  const until = map.get(key);
  if (until === undefined) return;
  map.delete(key);
  const m = client.messenger;
  const wait = until - m.runtime.now();
  if (wait <= 0) return;
  await new Promise<void>((resolve) => {
    const t = m.timers.schedule(wait, () => {
      signal?.removeEventListener('abort', done);
      resolve();
    });
    const done = () => {
      m.timers.cancel(t);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
  });
  if (client.isClosed) throw new CoapClosedError();
}
