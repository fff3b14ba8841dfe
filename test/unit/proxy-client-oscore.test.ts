/**
 * End-to-end Group OSCORE through a proxy that holds no group keys (draft-ietf-core-groupcomm-proxy
 * §5.5.1 steps 1-3, groupcomm-bis §5.3, draft-ietf-core-oscore-groupcomm §7): the client protects
 * the group request in the group mode; the proxy sees only the Class U options (Proxy-Uri reduced
 * to scheme and authority, RFC 8613 §4.1.3.3, and Multicast-Timeout), forwards it, and adds
 * Reply-From to each protected response; the client verifies each member's response and keys its
 * per-member state by Reply-From, so the Echo challenge of a first contact is answered through
 * the proxy, to that member alone, and its verified answer is the member's. The proxy's own
 * refusal is unprotected and still ends the request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoapClient } from '../../src/client/client.js';
import { ProxyAnswerError } from '../../src/client/proxy-answer-error.js';
import { Method } from '../../src/message/codes.js';
import { Opt } from '../../src/options/registry.js';
import { findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { CoapServer } from '../../src/server/server.js';
import { keyringOf } from '../fixtures/oscore-keys.js';
import { type Received, tap } from '../support/mem-net.js';
import { type Room, room, texts, URI } from '../support/oscore-group-room.js';
import { settle } from '../support/oscore-net.js';
import {
  forwardingMessenger,
  installTestProxy,
  type TestProxy,
  type TestProxyOptions,
} from '../support/test-group-proxy.js';

const T = { timeout: 30_000 };
const PROXY = 'coap://192.0.2.50';

/** A keyless proxy at 192.0.2.50 on the room's network; `close` before the room's network. */
async function withProxy(
  r: Room,
  o: TestProxyOptions = {},
): Promise<{ proxy: TestProxy; atProxy: Received[]; close(): Promise<void> }> {
  const { net, rt } = r.n;
  const serverTransport = net.createTransport({
    bind: [{ address: '192.0.2.50', port: 5683 }],
    ipv4Interface: 'mem0',
  });
  const atProxy = tap(serverTransport, rt);
  const forwardTransport = net.createTransport({
    bind: [{ address: '192.0.2.50', port: 40050 }],
    ipv4Interface: 'mem0',
  });
  const forwarder = await CoapClient.create({ messenger: forwardingMessenger(forwardTransport, rt) });
  const server = new CoapServer({ transport: serverTransport, runtime: rt });
  const proxy = installTestProxy(server, forwarder, o);
  await server.listen();
  return {
    proxy,
    atProxy,
    async close() {
      await forwarder.close();
      await forwarder.messenger.close();
      await server.close();
    },
  };
}

describe('Group OSCORE end to end through a keyless proxy', () => {
  it(
    'verifies every member’s response, answering each first-contact challenge through the proxy',
    T,
    async () => {
      const r = await room(3, { leisure: 1 });
      const { proxy, close } = await withProxy(r);
      try {
        const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.90');
        const rs = client.group({ uri: URI, proxy: PROXY, window: 3000 });
        const got = await settle(r.n.rt, rs.collect());
        assert.deepEqual(texts(got), ['node1', 'node2', 'node3']);
        assert.deepEqual(
          got.map((x) => x.source.address).sort(),
          ['192.0.2.2', '192.0.2.3', '192.0.2.4'],
          'each response is its member’s (Reply-From)',
        );
        assert.ok(got.every((x) => x.via?.address === '192.0.2.50'));
        assert.equal(r.seen.length, 3, 'each member delivered the request once, after its challenge');
        assert.ok(
          r.seen.every((s) => s.security?.kind !== undefined),
          'and each saw it verified',
        );
        // What the proxy could read of the group request: no path, no payload in the clear.
        const first = proxy.requests[0]!.message;
        assert.equal(first.code, Method.POST, 'the outer code of a protected request (RFC 8613 §4.2)');
        assert.ok(findOption(first.options, Opt.Oscore) !== undefined);
        assert.equal(findOption(first.options, Opt.ProxyUri)?.value.toString(), 'coap://224.0.1.187');
        assert.equal(findOption(first.options, Opt.UriPath), undefined, 'Uri-Path is inner');
        assert.ok(
          findOption(first.options, Opt.MulticastTimeout) !== undefined,
          'Multicast-Timeout is outer (Class U)',
        );
        // The Echo follow-ups went through the proxy, each to one member, each on its own token.
        const followUps = proxy.requests
          .slice(1)
          .map((q) => findOption(q.message.options, Opt.ProxyUri)!.value.toString());
        assert.deepEqual(followUps.sort(), ['coap://192.0.2.2', 'coap://192.0.2.3', 'coap://192.0.2.4']);
        const tokens = new Set(proxy.requests.map((q) => q.message.token.toString('hex')));
        assert.equal(
          tokens.size,
          4,
          'a fresh token for each follow-up (the group token is the forwarding’s)',
        );
        for (const [i, at] of r.atServers.entries()) {
          const unicast = at.filter((x) => !x.multicast && x.msg !== undefined && x.msg.code <= 31);
          assert.equal(unicast.length, 1, `member ${i + 2}: one follow-up`);
          assert.equal(unicast[0]!.remote.address, '192.0.2.50', 'from the proxy');
        }
        // A second request: the members know this client now, so nothing is challenged.
        const before = proxy.requests.length;
        const again = await settle(r.n.rt, client.group({ uri: URI, proxy: PROXY, window: 3000 }).collect());
        assert.deepEqual(texts(again), ['node1', 'node2', 'node3']);
        assert.equal(proxy.requests.length, before + 1, 'one request, no follow-up');
      } finally {
        await close();
        await r.n.close();
      }
    },
  );

  it('never relays plaintext: the payloads the proxy forwards are ciphertext', T, async () => {
    const r = await room(2, { leisure: 1, echo: false });
    const { close } = await withProxy(r);
    try {
      const { client, log } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.91');
      const got = await settle(r.n.rt, client.group({ uri: URI, proxy: PROXY, window: 3000 }).collect());
      assert.deepEqual(texts(got), ['node1', 'node2']);
      const relayed = log.filter(
        (x) => x.remote.address === '192.0.2.50' && x.msg !== undefined && x.msg.code !== 0,
      );
      assert.equal(relayed.length, 2);
      for (const x of relayed) {
        assert.ok(findOption(x.msg!.options, Opt.Oscore) !== undefined, 'still protected');
        assert.ok(!x.bytes.includes(Buffer.from('node')), 'no plaintext on the wire');
        assert.ok(findOption(x.msg!.options, Opt.ReplyFrom) !== undefined, 'Reply-From added outside');
      }
    } finally {
      await close();
      await r.n.close();
    }
  });

  it('keeps Reply-From Outer at the option numbers the client is configured with', T, async () => {
    const numbers = { multicastTimeout: 65002, replyFrom: 65000, groupETag: 65004 };
    const r = await room(2, { leisure: 1, echo: false });
    const { proxy, close } = await withProxy(r, { numbers });
    const transport = r.n.net.createTransport({
      bind: [{ address: '192.0.2.93', port: 40000 }],
      ipv4Interface: 'mem0',
    });
    const client = await CoapClient.create({
      transport,
      runtime: r.n.rt,
      security: new OscoreClientSecurity(keyringOf(r.files[0]!)),
      proxyOptions: numbers,
    });
    try {
      const got = await settle(r.n.rt, client.group({ uri: URI, proxy: PROXY, window: 3000 }).collect());
      assert.deepEqual(texts(got), ['node1', 'node2']);
      assert.deepEqual(got.map((x) => x.source.address).sort(), ['192.0.2.2', '192.0.2.3']);
      // Class U at 65000: kept after verification (an unknown option would be Class E, and its
      // Outer copy discarded, RFC 8613 §8.4 step 1).
      assert.ok(got.every((x) => findOption(x.options, 65000) !== undefined));
      assert.ok(
        findOption(proxy.requests[0]!.message.options, 65002) !== undefined,
        'Multicast-Timeout outer at 65002',
      );
    } finally {
      await client.close();
      await close();
      await r.n.close();
    }
  });

  it('ends with the proxy’s unprotected refusal, which it can send without keys', T, async () => {
    const r = await room(2, { leisure: 1 });
    const { close } = await withProxy(r, { allow: () => false });
    try {
      const { client } = await r.n.client(keyringOf(r.files[0]!), '192.0.2.92');
      const err = await settle(r.n.rt, client.group({ uri: URI, proxy: PROXY, window: 2000 }).collect()).then(
        () => assert.fail('no error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ProxyAnswerError);
      assert.equal(err.response.codeString, '4.01');
      assert.equal(r.seen.length, 0);
    } finally {
      await close();
      await r.n.close();
    }
  });
});
