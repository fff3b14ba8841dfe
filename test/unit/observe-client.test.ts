/**
 * The client side of Observe (RFC 7641) on the memory network with a FakeRuntime. Against a raw
 * server messenger: which notifications are fresh (§3.4: 24-bit serial arithmetic, or 128 s
 * since the last one), re-registration after Max-Age + 5 s of silence (§3.3.1), and RST for a
 * notification that arrives after the observation ended (§3.6). Against our server: leaving the
 * loop, cancel() and an AbortSignal deregister with Observe 1 (§3.6), a large notification is
 * completed block-wise (RFC 7959 §2.6), and an error notification ends the iteration (§4.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { CoapResponse } from '../../src/client/response.js';
import { decodeUint, encodeUint } from '../../src/entry/codec.js';
import { Code, findOption, MessageType, Opt } from '../../src/index.js';
import type { Messenger } from '../../src/messenger/messenger.js';
import { BASE, type BwPair, body, bwPair, messages } from '../support/bw-mem.js';
import { CLIENT, type MemSetup, memSetup, SERVER } from '../support/mem-net.js';
import { serverAndClients } from '../support/test-net.js';

const T = { timeout: 20_000 };
const URI = `coap://${SERVER.address}/obs`;

const observeOf = (opts: readonly { number: number; value: Buffer }[]) => {
  const o = findOption(opts, Opt.Observe);
  return o === undefined ? undefined : decodeUint(o.value);
};

/** A raw server that answers a registration with Observe `first` and Max-Age `maxAge`. */
async function rawServer(
  first: number,
  maxAge: number,
  fn: (m: MemSetup, srv: Messenger, c: CoapClient) => Promise<void>,
) {
  const m = memSetup({ seed: 2 });
  const srv = m.server((ex) =>
    ex.respond({
      code: Code.Content,
      options: [
        { number: Opt.Observe, value: encodeUint(first) },
        { number: Opt.MaxAge, value: encodeUint(maxAge) },
      ],
      payload: Buffer.from('reg'),
    }),
  );
  const client = await CoapClient.create({ transport: m.clientT, runtime: m.rt });
  try {
    await fn(m, srv, client);
  } finally {
    await client.close();
    await m.close();
  }
}

/** Sends one notification with sequence number `seq` to the client. */
function notify(
  srv: Messenger,
  token: Buffer,
  seq: number,
  text: string,
  type: MessageType = MessageType.NON,
): void {
  srv.send(
    {
      type,
      code: Code.Content,
      token,
      options: [
        { number: Opt.Observe, value: encodeUint(seq) },
        { number: Opt.MaxAge, value: encodeUint(3600) },
      ],
      payload: Buffer.from(text),
    },
    CLIENT,
  );
}

describe('Observe at the client against a raw server', () => {
  it('yields 5 and 6 of 5, 3, 6; after 128 s a lower number is fresh again (RFC 7641 §3.4)', T, async () => {
    await rawServer(1, 3600, async (m, srv, client) => {
      const it = client.observe(URI)[Symbol.asyncIterator]();
      const next = async () => ((await m.rt.settle(it.next())).value as CoapResponse).text();
      assert.equal(await next(), 'reg');
      const token = m.requests[0]!.request.token;
      notify(srv, token, 5, 'five');
      notify(srv, token, 3, 'three');
      notify(srv, token, 6, 'six');
      assert.equal(await next(), 'five');
      assert.equal(await next(), 'six');
      await m.rt.advance(129_000);
      notify(srv, token, 2, 'two');
      assert.equal(await next(), 'two');
      await it.return!();
    });
  });

  it('counts sequence numbers modulo 2^24 (RFC 7641 §3.4)', T, async () => {
    await rawServer(0xfffff0, 3600, async (m, srv, client) => {
      const seen: string[] = [];
      const obs = client.observe(URI);
      const loop = (async () => {
        for await (const r of obs) seen.push(r.text());
      })();
      await m.rt.advance(10);
      const token = m.requests[0]!.request.token;
      notify(srv, token, 0xfffff8, 'ahead');
      notify(srv, token, 3, 'wrapped');
      notify(srv, token, 0xfffff9, 'old');
      notify(srv, token, 3 + (1 << 23) + 1, 'too far');
      await m.rt.advance(10);
      await obs.cancel();
      await m.rt.settle(loop);
      assert.deepEqual(seen, ['reg', 'ahead', 'wrapped']);
    });
  });

  it('registers again with the same token after Max-Age + 5 s without a notification', T, async () => {
    await rawServer(1, 10, async (m, _srv, client) => {
      const obs = client.observe(URI);
      const it = obs[Symbol.asyncIterator]();
      await m.rt.settle(it.next());
      await m.rt.advance(14_900);
      assert.equal(m.requests.length, 1, 'not before Max-Age + 5 s');
      await m.rt.advance(200);
      assert.equal(m.requests.length, 2);
      const [a, b] = m.requests.map((x) => x.request);
      assert.ok(a!.token.equals(b!.token));
      assert.equal(observeOf(b!.options), 0);
      await obs.cancel();
    });
  });

  it('acknowledges a CON notification, and resets one that comes after cancel()', T, async () => {
    await rawServer(1, 3600, async (m, srv, client) => {
      const obs = client.observe(URI);
      const it = obs[Symbol.asyncIterator]();
      await m.rt.settle(it.next());
      const token = m.requests[0]!.request.token;
      notify(srv, token, 2, 'con', MessageType.CON);
      assert.equal((await m.rt.settle(it.next())).value?.text(), 'con');
      await obs.cancel();
      notify(srv, token, 3, 'late', MessageType.CON);
      await m.rt.advance(10);
      const empties = m.atServer.filter((r) => r.msg?.code === 0).map((r) => r.msg!.type);
      assert.deepEqual(empties, [MessageType.ACK, MessageType.RST]);
    });
  });
});

describe('Observe at the client against our server', () => {
  async function withObs(payload: () => string | Buffer, fn: (p: BwPair) => Promise<void>) {
    const p = await bwPair({
      setup: (s) => s.resource('/obs', { obs: true }).get(() => ({ payload: payload() })),
    });
    try {
      await fn(p);
    } finally {
      await p.close();
    }
  }
  /** Requests that deregister: GET with Observe 1. */
  const deregistrations = (p: BwPair) =>
    messages(p.atServer).filter((x) => x.code === 1 && observeOf(x.options) === 1);

  for (const how of ['break', 'cancel', 'abort'] as const) {
    it(`deregisters with GET Observe 1 on ${how}, leaving no observer and no token`, T, async () => {
      let n = 0;
      await withObs(
        () => `n${n}`,
        async (p) => {
          const ac = new AbortController();
          const obs = p.client.observe({ uri: `${BASE}/obs`, signal: ac.signal });
          const seen: string[] = [];
          const loop = (async () => {
            for await (const r of obs) {
              seen.push(r.text());
              if (seen.length < 3) {
                n++;
                p.server.notify('/obs');
              } else if (how === 'break') break;
              else if (how === 'cancel') await obs.cancel();
              else ac.abort();
            }
          })();
          await p.rt.settle(loop);
          await p.rt.advance(100);
          assert.deepEqual(seen, ['n0', 'n1', 'n2']);
          assert.equal(deregistrations(p).length, 1);
          assert.equal(p.server.stats()!.observers, 0);
          assert.equal(p.client.stats().tokens, 0);
        },
      );
    });
  }

  it('completes a large notification block-wise and yields every version whole', T, async () => {
    let v = 0;
    await withObs(
      () => body(3000, v),
      async (p) => {
        const seen: Buffer[] = [];
        const obs = p.client.observe(`${BASE}/obs`);
        const loop = (async () => {
          for await (const r of obs) {
            seen.push(r.payload);
            if (seen.length === 3) break;
            v++;
            p.server.notify('/obs');
          }
        })();
        await p.rt.settle(loop);
        assert.equal(seen.length, 3);
        for (const [i, b] of seen.entries()) assert.ok(b.equals(body(3000, i)), `version ${i} is whole`);
      },
    );
  });

  it('ends the iteration after an error notification', T, async () => {
    let gone = false;
    const p = await bwPair({
      setup: (s) =>
        s.resource('/obs', { obs: true }).get(() => (gone ? { code: '4.04' } : { payload: 'here' })),
    });
    try {
      const codes: string[] = [];
      const loop = (async () => {
        for await (const r of p.client.observe(`${BASE}/obs`)) {
          codes.push(r.codeString);
          gone = true;
          p.server.notify('/obs');
        }
      })();
      await p.rt.settle(loop);
      assert.deepEqual(codes, ['2.05', '4.04']);
      assert.equal(p.server.stats()!.observers, 0);
      assert.equal(p.client.stats().tokens, 0);
    } finally {
      await p.close();
    }
  });
});

describe('a registration that never got out, or is not answered (RFC 7641 §3.3.1, §3.6)', () => {
  it('sends nothing for an observation cancelled before it went out', { timeout: 20_000 }, async () => {
    const s = serverAndClients();
    s.server.resource('/c', { obs: true }).get(() => ({ payload: 'v' }));
    await s.server.listen();
    const c = await s.client('192.0.2.1');
    const obs = c.observe('coap://192.0.2.2/c');
    await obs.cancel();
    await s.rt.advance(5000);
    assert.equal(s.server.stats()!.observers, 0);
    assert.equal(c.stats().tokens, 0);
    assert.equal(s.net.stats.sent, 0);
    await c.close();
    await s.server.close();
  });

  it('ends with ERR_COAP_TIMEOUT instead of waiting forever (NON registration lost)', {
    timeout: 20_000,
  }, async () => {
    const s = serverAndClients();
    const c = await s.client('192.0.2.1');
    const it = c.observe({ uri: 'coap://192.0.2.3/c', confirmable: false })[Symbol.asyncIterator]();
    await assert.rejects(s.rt.settle(it.next(), { maxMs: 200_000 }), { code: 'ERR_COAP_TIMEOUT' });
    assert.equal(c.stats().tokens, 0);
    await c.close();
  });

  it('ends an observation with a timeout when the server stops answering its re-registration', {
    timeout: 30_000,
  }, async () => {
    const s = await bwPair({
      setup: (server) => server.resource('/c', { obs: true }).get(() => ({ payload: 'v', maxAge: 10 })),
    });
    const it = s.client.observe(`${BASE}/c`)[Symbol.asyncIterator]();
    await s.rt.settle(it.next());
    await s.server.close();
    await assert.rejects(s.rt.settle(it.next(), { maxMs: 3_600_000, step: 1000 }), {
      code: 'ERR_COAP_TIMEOUT',
    });
    await s.close();
  });
});
