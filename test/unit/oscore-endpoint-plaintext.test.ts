/**
 * A client given OSCORE key material never sends a request in the clear on its own
 * (docs/security.md "Requests no context protects"): a unicast request, a `send()`, an Observe
 * registration or a group request that no context protects is refused with
 * `ERR_OSCORE_NO_CONTEXT` and nothing is sent, unless plaintext was chosen explicitly
 * (`plaintext: 'allow'`, a list of destinations, or `unprotected: true` on the request). What
 * follows a request (a re-registration, an Echo retry) is held to the same rule. On the memory
 * network, so "nothing sent" is the network's count and the servers' logs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import type { MessageParts } from '../../src/client/exchanger.js';
import { encodeUint } from '../../src/entry/codec.js';
import { Code, Opt } from '../../src/index.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { protectionLayer } from '../../src/oscore/endpoint/client-exchanger.js';
import type { RequestProtection, SecuredKind } from '../../src/oscore/endpoint/client-protection.js';
import { OscoreNoContextError } from '../../src/oscore/endpoint/errors.js';
import type { Address } from '../../src/transport/types.js';
import { group, keyringOf } from '../fixtures/oscore-keys.js';
import { memSetup } from '../support/mem-net.js';
import { room } from '../support/oscore-group-room.js';

const T = { timeout: 30_000 };
const SECRET = 'my-password';

function noContext(kind: SecuredKind, address: string, port = 5683): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof OscoreNoContextError, `an OscoreNoContextError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_OSCORE_NO_CONTEXT');
    assert.equal(err.kind, kind);
    assert.deepEqual(err.destination, { address, port });
    assert.ok(err.message.includes(`${address}:${port}`), 'the message names the destination');
    assert.match(err.message, /nothing was sent/);
    return true;
  };
}

/** Drains an iterable, failing on any item. */
async function none(it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) assert.fail('nothing can come');
}

describe('a client with OSCORE key material refuses what it cannot protect', () => {
  it(
    'refuses request, send, a block-wise PUT and observe to a member address not in the file',
    T,
    async () => {
      // A group file made without member addresses: 192.0.2.2 is member 2, but the file does not say so.
      const r = await room(1, { leisure: 1 });
      const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
      const sent = r.n.net.stats.sent;
      const put = { uri: 'coap://192.0.2.2/light', method: 'PUT' as const, payload: SECRET };
      await assert.rejects(r.n.rt.settle(client.request(put)), noContext('unicast', '192.0.2.2'));
      await assert.rejects(r.n.rt.settle(client.send(put)), noContext('unicast', '192.0.2.2'));
      await assert.rejects(
        r.n.rt.settle(client.request({ ...put, payload: SECRET.repeat(500), blockSize: 64 })),
        noContext('unicast', '192.0.2.2'),
      );
      await assert.rejects(
        r.n.rt.settle(none(client.observe('coap://192.0.2.2:5683/light'))),
        noContext('observe', '192.0.2.2'),
      );
      await r.n.rt.advance(10_000);
      assert.equal(r.n.net.stats.sent, sent, 'no datagram was sent');
      assert.equal(r.atServers[0]!.length, 0);
      assert.equal(client.stats().tokens, 0, 'a refused request holds no token');
      await r.n.close();
    },
  );

  it('refuses a group request to an address no group in the file has', T, async () => {
    const r = await room(1, { leisure: 1 });
    const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
    const sent = r.n.net.stats.sent;
    const rs = client.group({ uri: 'coap://239.255.0.9:5683/light', method: 'PUT', payload: SECRET });
    await assert.rejects(r.n.rt.settle(none(rs)), noContext('group', '239.255.0.9'));
    assert.equal(r.n.net.stats.sent, sent);
    // The file's own group is still protected and answered.
    const ok = await r.n.rt.settle(client.group({ uri: 'coap://224.0.1.187/light', window: 4000 }).collect());
    assert.deepEqual(
      ok.map((x) => x.text()),
      ['node1'],
    );
    await r.n.close();
  });

  it(
    'sends plaintext only where it was chosen: "allow", a list of destinations, or per request',
    T,
    async () => {
      const r = await room(2, { leisure: 1 });
      r.servers[0]!.get('/open', () => ({ payload: 'open1' }));
      r.servers[1]!.get('/open', () => ({ payload: 'open2' }));
      const file = r.files[0]!;
      const { client: any } = await r.n.client(keyringOf(file), '192.0.2.90', { plaintext: 'allow' });
      assert.equal((await r.n.rt.settle(any.request('coap://192.0.2.3/open'))).text(), 'open2');
      const listed = { plaintext: [{ address: '192.0.2.2', port: 5683 }] };
      const { client: some } = await r.n.client(keyringOf(file), '192.0.2.91', listed);
      assert.equal((await r.n.rt.settle(some.request('coap://192.0.2.2/open'))).text(), 'open1');
      await assert.rejects(
        r.n.rt.settle(some.request('coap://192.0.2.3/open')),
        noContext('unicast', '192.0.2.3'),
      );
      await assert.rejects(
        r.n.rt.settle(some.request('coap://192.0.2.2:5699/open')),
        noContext('unicast', '192.0.2.2', 5699),
      );
      const { client: strict } = await r.n.client(keyringOf(file), '192.0.2.92');
      const res = await r.n.rt.settle(strict.request({ uri: 'coap://192.0.2.3/open', unprotected: true }));
      assert.equal(res.text(), 'open2');
      // Each server got requests without OSCORE, from the clients that chose plaintext.
      for (const log of r.atServers) {
        for (const d of log)
          assert.equal(
            d.msg?.options.some((o) => o.number === Opt.Oscore),
            false,
          );
      }
      await r.n.close();
    },
  );

  it('protects a destination that has a context whatever plaintext allows', T, async () => {
    const r = await room(1, { leisure: 1 });
    const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90', { plaintext: 'allow' });
    const rs = await r.n.rt.settle(client.group({ uri: 'coap://224.0.1.187/light', window: 4000 }).collect());
    assert.deepEqual(
      rs.map((x) => x.text()),
      ['node1'],
    );
    assert.ok(r.atServers[0]!.every((d) => d.msg?.options.some((o) => o.number === Opt.Oscore)));
    await r.n.close();
  });

  it('refuses a plaintext option that is none of its forms', () => {
    const k = keyringOf(group(2)[0]!);
    for (const bad of ['yes', 1, [{ address: 'node.example' }], [{ address: '192.0.2.1', port: 0 }]]) {
      assert.throws(() => new OscoreClientSecurity(k, { plaintext: bad as never }), {
        code: 'ERR_COAP_INVALID_ARGUMENT',
      });
    }
  });
});

/**
 * A security layer that lets the first request go (as a plaintext choice or protected by a
 * stand-in that echoes), then refuses: what follows must then not be sent at all.
 */
class FirstOnly implements RequestProtection {
  calls = 0;
  constructor(private readonly first: (parts: MessageParts) => ReturnType<RequestProtection['protect']>) {}
  protect(parts: MessageParts, dest: Address, kind: SecuredKind) {
    if (this.calls++ === 0) return this.first(parts);
    throw new OscoreNoContextError(dest, kind);
  }
}

describe('what follows a request is held to the same rule', () => {
  it('an Observe re-registration that cannot be protected ends the observation, unsent', T, async () => {
    const m = memSetup({ seed: 4 });
    m.server((ex) =>
      ex.respond({
        code: Code.Content,
        options: [
          { number: Opt.Observe, value: encodeUint(1) },
          { number: Opt.MaxAge, value: encodeUint(1) },
        ],
        payload: Buffer.from('reg'),
      }),
    );
    const security = new FirstOnly(() => undefined);
    const client = await CoapClient.create({
      transport: m.clientT,
      runtime: m.rt,
      security: protectionLayer(security),
    });
    const got: string[] = [];
    const run = (async () => {
      for await (const n of client.observe('coap://192.0.2.2/obs')) got.push(n.text());
    })();
    // Max-Age 1 s + 5 s: the re-registration is due, and refused.
    await assert.rejects(m.rt.settle(run, { maxMs: 120_000 }), noContext('observe', '192.0.2.2'));
    assert.deepEqual(got, ['reg']);
    assert.equal(m.requests.length, 1, 'only the first registration reached the server');
    // The registration, the refused re-registration, and the deregistration (refused too).
    assert.equal(security.calls, 3);
    assert.equal(m.atServer.length, 1, 'nothing but the first registration was sent');
    assert.equal(client.stats().tokens, 0);
    await client.close();
    await m.close();
  });

  it('an Echo retry that cannot be protected rejects the request, unsent', T, async () => {
    const m = memSetup({ seed: 4 });
    m.server((ex) => ex.respond({ code: Code.Content, options: [], payload: Buffer.from('x') }));
    // A stand-in protection whose answer asks for the request once more (as an Echo 4.01 does).
    const security = new FirstOnly((parts) => ({ parts, open: (msg) => msg, retry: () => parts }));
    const client = await CoapClient.create({
      transport: m.clientT,
      runtime: m.rt,
      security: protectionLayer(security),
    });
    await assert.rejects(
      m.rt.settle(client.request({ uri: 'coap://192.0.2.2/x', method: 'PUT', payload: SECRET }), {
        maxMs: 120_000,
      }),
      noContext('unicast', '192.0.2.2'),
    );
    assert.equal(m.requests.length, 1, 'the retry was not sent');
    await client.close();
    await m.close();
  });
});
