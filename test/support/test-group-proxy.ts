/**
 * A small forward proxy for the client's tests of draft-ietf-core-groupcomm-proxy, built on the
 * server's seams (a proxy handler, and a site layer for the Early Stop Request, which carries no
 * Proxy-Uri) and a plain CoapClient on the memory network. It keeps the draft's order of checks
 * (5.01, 4.01, 4.00 with an empty Multicast-Timeout), relays each member's response on the
 * client's token with Reply-From until T', forwards what it cannot read (it holds no keys), stops
 * on an Early Stop Request, and answers a Group-ETag revalidation with 2.03 once it has seen a
 * complete set. Unicast targets are forwarded too (one response). It is a test double: no cache
 * beyond the last set per target, no limits.
 */
import { createHash } from 'node:crypto';
import type { CoapClient } from '../../src/client/client.js';
import { Code } from '../../src/message/codes.js';
import { type CoapOption, EMPTY, MessageType } from '../../src/message/types.js';
import { Messenger } from '../../src/messenger/messenger.js';
import { DEFAULT_PROXY_OPTION_NUMBERS, type ProxyOptionNumbers } from '../../src/options/proxy-numbers.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption, findOptions } from '../../src/options/values.js';
import type { Runtime } from '../../src/runtime.js';
import type { Responder } from '../../src/server/responder.js';
import type { CoapServer } from '../../src/server/server.js';
import type { InboundRequest } from '../../src/server/site.js';
import type { Address, Transport } from '../../src/transport/types.js';
import { criOfEndpoint, encodeReplyFrom, formatUri, parseUri, uriToOptions } from '../../src/uri/index.js';
import { isMulticast } from '../../src/util/ip.js';

export interface TestProxyOptions {
  /** Whether group forwarding is configured at all (else 5.01, RFC 7390 §2.9). Default true. */
  readonly groups?: boolean;
  /** The allow-list for group targets (else 4.01). Default: everyone. */
  readonly allow?: (remote: Address) => boolean;
  /** How many members answer a complete set (Group-ETag needs the membership, §7.3). */
  readonly members?: number;
  readonly numbers?: ProxyOptionNumbers;
  /** Reverse-proxy paths (groupcomm-proxy §6): a first path segment mapped to a group URI. */
  readonly reverse?: Readonly<Record<string, string>>;
}

/** What a test can see of the proxy. */
export interface TestProxy {
  /** Every request the proxy handler took, as it arrived. */
  readonly requests: InboundRequest[];
  /** Early Stop Requests it honoured. */
  readonly stops: string[];
  /** Group requests it sent to the network, with their options. */
  readonly forwarded: Array<{ target: string; options: CoapOption[] }>;
}

/**
 * A messenger for the proxy's forwarding side: it recognizes every option, because a proxy
 * relays responses with options it does not process (an OSCORE option it cannot open).
 */
export function forwardingMessenger(transport: Transport, runtime: Runtime): Messenger {
  return new Messenger({ transport, runtime, isRecognizedOption: () => true });
}

const key = (remote: Address, token: Buffer) => `${remote.address}:${remote.port}|${token.toString('hex')}`;

/** One relayed response, as the set of §7.3 keeps it. */
interface Relayed {
  readonly source: string;
  readonly code: number;
  readonly payload: Buffer;
  readonly options: readonly CoapOption[];
}

interface StoredSet {
  /** Empty while the set is incomplete. */
  readonly tag: Buffer;
  readonly storedAt: number;
  readonly pending: Relayed[];
}

/**
 * Installs the proxy on `server` (which must not listen yet), forwarding with `client`, whose
 * messenger must pass up the critical options of the responses it relays (`forwardingMessenger`).
 */
export function installTestProxy(
  server: CoapServer,
  client: CoapClient,
  o: TestProxyOptions = {},
): TestProxy {
  const n = o.numbers ?? DEFAULT_PROXY_OPTION_NUMBERS;
  const active = new Map<string, AbortController>();
  const sets = new Map<string, StoredSet>();
  const seen: TestProxy = { requests: [], stops: [], forwarded: [] };
  const rt = () => client.messenger.runtime;
  // groupcomm-proxy §5.1.3: an Early Stop Request has no Proxy-* option, so it reaches the site.
  server.use({
    // A proxy forwards the OSCORE option it cannot read (RFC 8613 §4.1.3.7: Class U).
    criticalOptions: [Opt.Oscore],
    wrap: (inner) => ({
      acceptsMulticast: (req) => inner.acceptsMulticast?.(req) ?? true,
      handle(req, res) {
        const mt = findOption(req.message.options, n.multicastTimeout);
        const stop = active.get(key(req.remote, req.message.token));
        const first = findOption(req.message.options, Opt.UriPath)?.value.toString();
        const group = first === undefined ? undefined : o.reverse?.[first];
        if (group !== undefined && stop === undefined) {
          // §6.1: the path maps to a group; the rest of the path goes with it.
          const path = findOptions(req.message.options, Opt.UriPath)
            .slice(1)
            .map((x) => x.value.toString());
          const target = parseUri(`${group}/${path.join('/')}`);
          const rest = req.message.options.filter(
            (x) => x.number !== Opt.UriPath && x.number !== Opt.UriHost && x.number !== Opt.UriPort,
          );
          seen.requests.push(req);
          return takeGroup(req, res, target, rest, `${group}${req.message.code}`);
        }
        if (mt === undefined || mt.value.length > 0 || stop === undefined) return inner.handle(req, res);
        seen.stops.push(key(req.remote, req.message.token));
        stop.abort();
        res.finish();
      },
    }),
  });
  server.setProxyHandler({
    handle(req: InboundRequest, res: Responder) {
      seen.requests.push(req);
      const msg = req.message;
      const proxyUri = findOption(msg.options, Opt.ProxyUri);
      if (proxyUri === undefined)
        return res.respond({ code: Code.ProxyingNotSupported, options: [], payload: EMPTY });
      const target = parseUri(proxyUri.value.toString());
      const rest = msg.options.filter((x) => x.number !== Opt.ProxyUri);
      if (!isMulticast(target.host)) {
        // Unicast: one request, one response (RFC 7252 §5.7.2), relayed as it came (Block2 too).
        res.armAck();
        relayUnicast(
          client,
          req,
          res,
          target,
          rest.filter((x) => x.number !== n.multicastTimeout),
        );
        return;
      }
      takeGroup(req, res, target, rest, proxyUri.value.toString() + msg.code);
    },
  });
  /** A request for a group: the checks of §5.2.1 in order, then the relay. */
  function takeGroup(
    req: InboundRequest,
    res: Responder,
    target: ReturnType<typeof parseUri>,
    options: CoapOption[],
    setKey: string,
  ): void {
    const msg = req.message;
    const rest = options.filter((x) => x.number !== n.multicastTimeout && x.number !== n.groupETag);
    const reply = (code: number, options: CoapOption[] = [], text = '') =>
      res.respond({ code, options, payload: Buffer.from(text) }, { suppressible: false });
    if (o.groups === false) return reply(Code.NotImplemented, [], 'group forwarding is not configured');
    if (o.allow !== undefined && !o.allow(req.remote)) return reply(Code.Unauthorized);
    const mt = findOption(msg.options, n.multicastTimeout);
    if (mt === undefined)
      return reply(
        Code.BadRequest,
        [{ number: n.multicastTimeout, value: EMPTY }],
        'Multicast-Timeout required',
      );
    const window = decodeUint(mt.value) * 1000;
    const stored = sets.get(setKey);
    const asked = findOptions(msg.options, n.groupETag).map((x) => x.value);
    if (stored !== undefined && stored.tag.length > 0 && asked.some((t) => t.equals(stored.tag))) {
      return reply(Code.Valid, [{ number: n.groupETag, value: stored.tag }]);
    }
    res.armAck();
    const stop = new AbortController();
    const k = key(req.remote, msg.token);
    active.set(k, stop);
    seen.forwarded.push({ target: formatUri(target), options: rest });
    relayGroup(
      client,
      req,
      res,
      target,
      rest,
      window,
      stop.signal,
      (r) => {
        // §7.3: tag the set once it is complete (after storing the last member's response).
        if (o.members === undefined || findOption(r.options, Opt.Observe) !== undefined) return undefined;
        const set = (sets.get(setKey)?.pending ?? []).filter((x) => x.source !== r.source);
        set.push(r);
        if (set.length < o.members) {
          sets.set(setKey, { tag: EMPTY, storedAt: 0, pending: set });
          return undefined;
        }
        const tag = tagOf(set);
        sets.set(setKey, { tag, storedAt: rt().now(), pending: [] });
        return tag;
      },
      n,
    ).finally(() => active.delete(k));
  }
  return seen;
}

/** groupcomm-proxy §7.3: an entity-tag of the set, that changes when a representation does. */
function tagOf(set: readonly Relayed[]): Buffer {
  const h = createHash('sha256');
  for (const r of [...set].sort((a, b) => a.source.localeCompare(b.source)))
    h.update(`${r.source}|${r.code}|${r.payload.toString('hex')};`);
  return h.digest().subarray(0, 8);
}

/** Forwards a unicast request raw (CON, a fresh token) and relays its one response, or 5.04. */
function relayUnicast(
  client: CoapClient,
  req: InboundRequest,
  res: Responder,
  target: ReturnType<typeof parseUri>,
  rest: CoapOption[],
): void {
  const m = client.messenger;
  const dest: Address = { address: target.host, port: target.port };
  const token = m.runtime.randomBytes(8);
  const options = [...rest, ...uriToOptions(target, dest)].sort((a, b) => a.number - b.number);
  let done = false;
  const finish = (code: number, opts: readonly CoapOption[], payload: Buffer) => {
    if (done) return;
    done = true;
    unlisten();
    res.respond({ code, options: [...opts], payload });
  };
  const unlisten = m.addResponseListener((msg, remote) => {
    if (!msg.token.equals(token) || remote.address !== dest.address || msg.code === 0) return false;
    finish(msg.code, msg.options, msg.payload);
    return true;
  });
  const gone = () => finish(Code.GatewayTimeout, [], EMPTY);
  m.send(
    { type: MessageType.CON, code: req.message.code, token, options, payload: req.message.payload },
    dest,
    undefined,
    {
      onTimeout: gone,
      onReset: gone,
      onError: gone,
    },
  );
}

/**
 * Sends the group request raw (NON, a fresh token, no block-wise following: a member's first
 * block is relayed as it came) and relays each response with Reply-From until T'; an
 * observation is relayed until stopped, then every member that notified is deregistered by
 * unicast (RFC 7641 §3.6). `tag` may give the Group-ETag of a response that completes the set.
 */
async function relayGroup(
  client: CoapClient,
  req: InboundRequest,
  res: Responder,
  target: ReturnType<typeof parseUri>,
  rest: CoapOption[],
  window: number,
  signal: AbortSignal,
  tag: (r: Relayed) => Buffer | undefined,
  n: ProxyOptionNumbers,
): Promise<void> {
  const m = client.messenger;
  const rt = m.runtime;
  const group: Address = { address: target.host, port: target.port };
  const token = rt.randomBytes(8);
  const options = [...rest, ...uriToOptions(target, group)].sort((a, b) => a.number - b.number);
  const observe = findOption(rest, Opt.Observe) !== undefined;
  const notifiers = new Map<string, Address>();
  const unlisten = m.addResponseListener((msg, remote) => {
    if (!msg.token.equals(token) || signal.aborted) return false;
    const source = `${remote.address}:${remote.port}`;
    if (findOption(msg.options, Opt.Observe) !== undefined) notifiers.set(source, remote);
    // T' = 0: the request is still sent, but nothing is relayed (groupcomm-proxy §5.2.1 step 6).
    if (window === 0) return true;
    const from = encodeReplyFrom({ origin: criOfEndpoint('coap', remote.address, remote.port) });
    const out = [...msg.options, { number: n.replyFrom, value: from }];
    const t = tag({ source, code: msg.code, payload: msg.payload, options: msg.options });
    if (t !== undefined) out.push({ number: n.groupETag, value: t });
    out.sort((a, b) => a.number - b.number);
    res.respond({ code: msg.code, options: out, payload: msg.payload }, { more: true, suppressible: false });
    return true;
  });
  const sent = m.send(
    { type: MessageType.NON, code: req.message.code, token, options, payload: req.message.payload },
    group,
  );
  await new Promise<void>((resolve) => {
    const timer = observe ? undefined : rt.setTimeout(resolve, window);
    signal.addEventListener(
      'abort',
      () => {
        if (timer !== undefined) rt.clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  sent.cancel();
  unlisten();
  const dereg = options.map((o) =>
    o.number === Opt.Observe ? { number: Opt.Observe, value: Buffer.from([1]) } : o,
  );
  for (const member of notifiers.values())
    m.send({ type: MessageType.NON, code: 1, token, options: dereg, payload: EMPTY }, member).cancel();
  res.finish();
}
