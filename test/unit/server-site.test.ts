/**
 * The server's seams, used from outside without changing the server: a proxy handler takes the
 * requests that carry Proxy-Uri or Proxy-Scheme (RFC 7252 §5.7.2; 5.05 without one) and may
 * answer one request with several separate responses on its token (a proxy relaying each group
 * member's answer), while the responder below it keeps No-Response (RFC 7967); and a layer
 * around the site (here a toy protection scheme, not OSCORE) opens requests, gives handlers the
 * sender's identity, and transforms every response and notification on its way out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/message/codes.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { encodeUint, findOption } from '../../src/options/values.js';
import type { Runtime } from '../../src/runtime.js';
import type { Responder } from '../../src/server/responder.js';
import { CoapServer } from '../../src/server/server.js';
import type { InboundRequest, Site, SiteLayer } from '../../src/server/site.js';
import { bwPair, type RawPeer, rawPeer, SERVER_ADDR } from '../support/bw-mem.js';
import { type Received, tap } from '../support/mem-net.js';

const T = { timeout: 20_000 };

/**
 * A toy proxy: every Proxy-Uri request is "forwarded to three group members" whose answers come
 * in over a second, each relayed as it arrives; `clock()` (the fake clock) stands in for the network.
 */
function toyProxy(clock: () => Runtime, seen: InboundRequest[]): Site {
  return {
    handle(req: InboundRequest, res: Responder) {
      const rt = clock();
      seen.push(req);
      res.armAck();
      const target = findOption(req.message.options, Opt.ProxyUri)?.value.toString() ?? '?';
      for (const [i, ms] of [300, 700, 1100].entries()) {
        const payload = Buffer.from(`member${i + 1} of ${target}`);
        rt.setTimeout(() => res.respond({ code: Code.Content, options: [], payload }, { more: true }), ms);
      }
      rt.setTimeout(() => res.finish(), 1500);
    },
  };
}

type Pair = Awaited<ReturnType<typeof bwPair>>;

/** A pair (server options and setup given), and a raw peer at 192.0.2.9 whose arrivals are logged. */
async function withPair(
  o: Parameters<typeof bwPair>[0],
  body: (p: Pair, raw: RawPeer, log: Received[]) => Promise<void>,
): Promise<void> {
  const p = await bwPair(o);
  const t = p.net.createTransport({ bind: [{ address: '192.0.2.9', port: 40009 }] });
  const log = tap(t, p.rt);
  const raw = rawPeer(p.rt, t);
  try {
    await body(p, raw, log);
  } finally {
    await raw.messenger.close();
    await p.close();
  }
}

/** Lets `ms` of virtual time pass. */
const pass = (p: Pair, ms: number) => p.rt.settle(new Promise<void>((r) => p.rt.setTimeout(() => r(), ms)));

const proxyUri = (uri: string) => ({ number: Opt.ProxyUri, value: Buffer.from(uri) });
const path = (s: string) => ({ number: Opt.UriPath, value: Buffer.from(s) });

/** The messages with `token` in a log, in arrival order. */
function onToken(log: readonly Received[], token: Buffer): CoapMessage[] {
  return log.flatMap((r) => (r.msg?.token.equals(token) ? [r.msg] : []));
}

describe('a proxy handler installed from outside', () => {
  it('answers one Proxy-Uri request with three separate responses on its token', T, async () => {
    const seen: InboundRequest[] = [];
    await withPair(
      { setup: (s) => s.resource('/hello').get(() => ({ payload: 'hi' })) },
      async (p, raw, log) => {
        p.server.setProxyHandler(toyProxy(() => p.rt, seen));
        const token = Buffer.from([0x70, 0x01]);
        const first = await p.rt.settle(
          raw.request({ token, options: [proxyUri('coap://224.0.1.187/light')] }, SERVER_ADDR),
        );
        await pass(p, 3000);
        assert.equal(seen.length, 1, 'the proxy handler took the request');
        assert.equal(first.payload.toString(), 'member1 of coap://224.0.1.187/light');
        const responses = onToken(log, token);
        assert.deepEqual(
          responses.map((m) => [m.type, m.code, m.payload.toString()]),
          [1, 2, 3].map((i) => [MessageType.NON, Code.Content, `member${i} of coap://224.0.1.187/light`]),
          'three separate NON responses on the one token',
        );
        const acks = log.filter((r) => r.msg?.type === MessageType.ACK && r.msg.code === 0);
        assert.equal(acks.length, 1, 'the CON request got its empty ACK first (RFC 7252 §5.2.2)');
        // A request without proxy options still reaches the router.
        const hello = await p.rt.settle(raw.request({ options: [path('hello')] }, SERVER_ADDR));
        assert.equal(hello.payload.toString(), 'hi');
        assert.equal(seen.length, 1);
      },
    );
  });

  it('keeps No-Response below the handler: disclaimed 2.xx responses are not sent', T, async () => {
    const seen: InboundRequest[] = [];
    await withPair({}, async (p, raw, log) => {
      p.server.setProxyHandler(toyProxy(() => p.rt, seen));
      const token = Buffer.from([0x70, 0x02]);
      raw.messenger.send(
        {
          type: MessageType.NON,
          code: 1,
          token,
          options: [proxyUri('coap://224.0.1.187/light'), { number: Opt.NoResponse, value: encodeUint(2) }],
          payload: EMPTY,
        },
        SERVER_ADDR,
      );
      await pass(p, 3000);
      assert.equal(seen.length, 1);
      assert.deepEqual(onToken(log, token), [], 'RFC 7967 §2.1: no 2.xx went out');
    });
  });

  it('is given at construction, can be removed, and without one Proxy-Uri gets 5.05', T, async () => {
    const seen: InboundRequest[] = [];
    await withPair({}, async (p, raw) => {
      const before = await p.rt.settle(raw.request({ options: [proxyUri('coap://192.0.2.7/x')] }));
      assert.equal(before.code, Code.ProxyingNotSupported);
      p.server.setProxyHandler(toyProxy(() => p.rt, seen));
      const scheme = { number: Opt.ProxyScheme, value: Buffer.from('coap') };
      const taken = await p.rt.settle(raw.request({ options: [path('x'), scheme] }));
      assert.equal(taken.code, Code.Content);
      assert.equal(seen.length, 1, 'Proxy-Scheme goes to the handler too');
      p.server.setProxyHandler(undefined);
      const after = await p.rt.settle(raw.request({ options: [proxyUri('coap://192.0.2.7/x')] }));
      assert.equal(after.code, Code.ProxyingNotSupported);
    });
    let rt: Runtime | undefined;
    await withPair({ server: { proxy: toyProxy(() => rt!, seen) } }, async (p, raw) => {
      rt = p.rt;
      const taken = await p.rt.settle(raw.request({ options: [proxyUri('coap://192.0.2.7/x')] }));
      assert.equal(taken.code, Code.Content, 'the proxy option of the constructor installs one too');
    });
    assert.throws(() => new CoapServer({ proxy: {} as Site }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

/** The toy scheme's key option (critical: the messenger passes it up only when the layer says so). */
const KEY = 65001;
/** The toy scheme's mark on what it sent (elective). */
const MARK = 65000;

const reversed = (b: Buffer) => Buffer.from(b).reverse();

/** A toy protection layer: a request keyed with KEY has its payload reversed; so has every answer. */
const toyLayer: SiteLayer = {
  criticalOptions: [KEY],
  wrap: (inner) => ({
    acceptsMulticast: (req) => inner.acceptsMulticast?.(req) ?? true,
    handle(req, res) {
      const key = findOption(req.message.options, KEY);
      if (key === undefined) return inner.handle(req, res);
      const message = {
        ...req.message,
        options: req.message.options.filter((o) => o.number !== KEY),
        payload: reversed(req.message.payload),
      };
      const security = { kind: 'toy', kid: key.value.toString('hex') };
      let sent = 0;
      const sealed = res.through({
        request: message,
        encode: (parts, notification) => ({
          ...parts,
          options: [
            ...parts.options,
            { number: MARK, value: Buffer.from(notification ? 'n' : `r${sent++}`) },
          ],
          payload: reversed(parts.payload),
        }),
      });
      inner.handle({ ...req, message, security }, sealed);
    },
  }),
};

describe('a layer around the site, written outside the server', () => {
  it(
    'opens requests, names the sender to handlers, and transforms responses and notifications',
    T,
    async () => {
      let state = 'on';
      await withPair(
        {
          setup: (s) => {
            s.use(toyLayer);
            s.resource('/whoami', { protected: true }).post((req) => ({
              payload: `${req.security?.kind}:${req.security?.kid}:${req.text()}`,
            }));
            s.resource('/light', { obs: true, protected: true }).get(() => ({ payload: state }));
          },
        },
        async (p, raw) => {
          const key = { number: KEY, value: Buffer.from('alice') };
          const res = await p.rt.settle(
            raw.request({ code: 2, options: [path('whoami'), key], payload: Buffer.from('olleh') }),
          );
          assert.equal(res.payload.toString(), reversed(Buffer.from('toy:616c696365:hello')).toString());
          assert.equal(findOption(res.options, MARK)?.value.toString(), 'r0');
          const plain = await p.rt.settle(raw.request({ code: 2, options: [path('whoami')] }));
          assert.equal(plain.code, Code.Unauthorized, 'a protected resource refuses what no layer verified');
          assert.equal(findOption(plain.options, MARK), undefined);
          const obsToken = Buffer.from([0x0b, 0x5e]);
          const registered = await p.rt.settle(
            raw.request({
              token: obsToken,
              options: [{ number: Opt.Observe, value: EMPTY }, path('light'), key],
            }),
          );
          assert.equal(registered.payload.toString(), 'no');
          state = 'off';
          assert.equal(p.server.notify('/light'), 1);
          await pass(p, 100);
          const note = raw.responses.filter((m) => m.token.equals(obsToken)).at(-1)!;
          assert.equal(note.payload.toString(), 'ffo', 'the notification went through the layer');
          assert.equal(findOption(note.options, MARK)?.value.toString(), 'n');
        },
      );
    },
  );

  it(
    'without the layer, its critical option is refused by the message layer (RFC 7252 §5.4.1)',
    T,
    async () => {
      await withPair(
        { setup: (s) => s.resource('/whoami').post(() => ({ payload: 'x' })) },
        async (p, raw) => {
          const res = await p.rt.settle(
            raw.request({ code: 2, options: [path('whoami'), { number: KEY, value: Buffer.from('a') }] }),
          );
          assert.equal(res.code, Code.BadOption);
        },
      );
    },
  );

  it('is a security layer: requireProtection takes any, and refuses what it did not verify', T, async () => {
    const o = { server: { security: toyLayer, requireProtection: true } };
    await withPair(
      { ...o, setup: (s) => s.resource('/any').get(() => ({ payload: 'ok' })) },
      async (p, raw) => {
        const refused = await p.rt.settle(raw.request({ options: [path('any')] }));
        assert.equal(refused.code, Code.Unauthorized);
        const bob = { number: KEY, value: Buffer.from('bob') };
        const taken = await p.rt.settle(raw.request({ options: [path('any'), bob] }));
        assert.equal(taken.payload.toString(), 'ko');
      },
    );
  });
});
