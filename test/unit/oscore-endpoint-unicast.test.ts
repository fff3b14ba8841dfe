/**
 * OSCORE (RFC 8613) as a layer around the client's and server's messages, on the memory
 * transport with virtual time: end-to-end protection (§8), the identity handlers see, the Echo
 * challenge after a start (RFC 9175 §2.4, RFC 8613 Appendix B.1.2), replay and reordering (§7.4),
 * sequence-number gaps across restarts (Appendix B.1.1), the error answers of §8.2, protected
 * resources, Observe (§4.1.3.5) and inner block-wise (§4.1.3.4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, MessageType } from '../../src/message/types.js';
import { Opt } from '../../src/options/registry.js';
import { decodeUint, findOption } from '../../src/options/values.js';
import { OscoreClientSecurity } from '../../src/oscore/endpoint/client.js';
import { OscoreExchangeError } from '../../src/oscore/endpoint/errors.js';
import { decodeOscoreOption, decodePartialIv } from '../../src/oscore/option.js';
import { protectResponse } from '../../src/oscore/protect.js';
import { unprotectRequest } from '../../src/oscore/unprotect.js';
import { CoapServer } from '../../src/server/server.js';
import { keyringOf, pair, type Storages } from '../fixtures/oscore-keys.js';
import type { Received } from '../support/mem-net.js';
import { makeNet, SERVER } from '../support/oscore-net.js';

const T = { timeout: 20_000 };
const URI = 'coap://192.0.2.2/light';

function oscoreOf(m: CoapMessage) {
  const o = findOption(m.options, Opt.Oscore);
  return o === undefined ? undefined : decodeOscoreOption(o.value);
}

/** The datagrams of a log as messages. */
const msgs = (log: readonly Received[]): CoapMessage[] => log.map((r) => r.msg!);

/** The same datagram with another Message ID (so deduplication does not hide it). */
function remid(bytes: Buffer, mid: number): Buffer {
  return encodeMessage({ ...decodeMessage(Buffer.from(bytes)), messageId: mid });
}

function lightServer(server: CoapServer, calls: string[]): void {
  server.resource('/light', { protected: true }).get((req) => {
    calls.push(req.security?.kid ?? '-');
    return { payload: 'on' };
  });
}

describe('OSCORE unicast through the client and server hooks (RFC 8613 §8)', () => {
  it('protects a GET end to end and tells the handler who sent it', T, async () => {
    const n = makeNet();
    const p = pair();
    let seen: unknown;
    const { server, log: atServer } = await n.server(keyringOf(p.server));
    server.resource('/light', { protected: true }).get((req) => {
      seen = req.security;
      return { payload: 'on' };
    });
    const { client, log: atClient } = await n.client(keyringOf(p.client));
    const res = await n.rt.settle(client.request(URI));
    assert.equal(res.codeString, '2.05');
    assert.equal(res.text(), 'on');
    const clientId = (p.client.oscore as Array<{ senderId: string }>)[0]!.senderId;
    assert.deepEqual(seen, { kind: 'oscore', kid: clientId });
    // On the wire: POST with OSCORE, no Uri-Path, no plaintext; answers 2.04 with OSCORE (§4.2).
    for (const m of msgs(atServer)) {
      assert.equal(m.code, Code.Empty + 2);
      assert.equal(findOption(m.options, Opt.UriPath), undefined);
      assert.equal(oscoreOf(m)?.kid?.toString('hex'), clientId);
      assert.ok(!m.payload.includes(Buffer.from('light')));
    }
    for (const m of msgs(atClient)) {
      assert.equal(m.code, Code.Changed);
      assert.ok(oscoreOf(m) !== undefined);
      assert.ok(!m.payload.includes(Buffer.from('on')));
    }
    await n.close();
  });

  it(
    'challenges the first request after a start with Echo; the client retries once, then no more',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const calls: string[] = [];
      const { server, log: atServer } = await n.server(keyringOf(p.server));
      lightServer(server, calls);
      const { client, log: atClient } = await n.client(keyringOf(p.client));
      assert.equal((await n.rt.settle(client.request(URI))).text(), 'on');
      assert.equal(atServer.length, 2, 'the request, then the request echoing the challenge');
      // The challenge is a protected 4.01 with the server's own Partial IV (Appendix B.1.2).
      assert.ok(oscoreOf(atClient[0]!.msg!)?.partialIv !== undefined);
      assert.equal((await n.rt.settle(client.request(URI))).text(), 'on');
      assert.equal(atServer.length, 3);
      assert.equal(calls.length, 2);
      await n.close();
    },
  );

  it('with echo: false delivers the first request at once', T, async () => {
    const n = makeNet();
    const p = pair();
    const calls: string[] = [];
    const { server, log } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
    lightServer(server, calls);
    const { client } = await n.client(keyringOf(p.client));
    assert.equal((await n.rt.settle(client.request(URI))).text(), 'on');
    assert.equal(log.length, 1);
    await n.close();
  });

  it(
    'answers a replayed request with an unprotected 4.01 "Replay detected" and does not run the handler',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const calls: string[] = [];
      const { server, log: atServer } = await n.server(keyringOf(p.server));
      lightServer(server, calls);
      const { client } = await n.client(keyringOf(p.client));
      await n.rt.settle(client.request(URI));
      const captured = atServer.at(-1)!.bytes;
      const attacker = n.raw('192.0.2.66');
      attacker.transport.send(remid(captured, 0x4242), SERVER.address, SERVER.port);
      await n.rt.advance(100);
      const answer = attacker.log[0]!.msg!;
      assert.equal(answer.code, Code.Unauthorized);
      assert.equal(answer.payload.toString(), 'Replay detected');
      assert.equal(oscoreOf(answer), undefined, 'OSCORE errors are not protected (RFC 8613 §8.3)');
      assert.equal(findOption(answer.options, Opt.MaxAge)?.value.length, 0, 'Outer Max-Age 0');
      assert.equal(calls.length, 1);
      await n.close();
    },
  );

  it(
    'accepts requests reordered within the replay window, refuses one older than the window',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const calls: string[] = [];
      const { server } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
      lightServer(server, calls);
      const sec = new OscoreClientSecurity(keyringOf(p.client));
      const path = {
        code: 1,
        options: [{ number: Opt.UriPath, value: Buffer.from('light') }],
        payload: Buffer.alloc(0),
      };
      const reqs = Array.from({ length: 40 }, () => sec.protect(path, SERVER, 'unicast')!);
      const { transport, log } = n.raw('192.0.2.9');
      const send = (i: number) =>
        transport.send(
          encodeMessage({
            type: MessageType.CON,
            messageId: 100 + i,
            token: Buffer.from([i]),
            ...reqs[i]!.parts,
          }),
          SERVER.address,
          SERVER.port,
        );
      send(1);
      send(0); // overtaken: still fresh (RFC 8613 §7.4)
      send(39);
      send(2); // 37 behind the highest, outside the 32-entry window
      await n.rt.advance(100);
      const byToken = new Map(log.map((r) => [r.msg!.token[0]!, r.msg!]));
      for (const i of [0, 1, 39]) {
        const opened = reqs[i]!.open(byToken.get(i)!, SERVER);
        assert.equal(opened?.payload.toString(), 'on', `request ${i}`);
      }
      assert.equal(byToken.get(2)!.code, Code.Unauthorized);
      assert.equal(byToken.get(2)!.payload.toString(), 'Replay detected');
      assert.equal(calls.length, 3);
      await n.close();
    },
  );

  it(
    'a restarted client resumes after a gap in its sequence numbers (RFC 8613 Appendix B.1.1)',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const calls: string[] = [];
      const { server, log } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
      lightServer(server, calls);
      const storages: Storages = new Map();
      const first = await n.client(keyringOf(p.client, storages));
      for (let i = 0; i < 3; i++) await n.rt.settle(first.client.request(URI));
      assert.deepEqual(storages.get('oscore-0')!.writes, [10]);
      await first.client.close();
      const again = await n.client(keyringOf(p.client, storages), '192.0.2.7');
      assert.equal((await n.rt.settle(again.client.request(URI))).text(), 'on');
      const pivs = msgs(log).map((m) => decodePartialIv(oscoreOf(m)!.partialIv!));
      assert.deepEqual(pivs, [0, 1, 2, 10]);
      assert.equal(calls.length, 4);
      await n.close();
    },
  );

  it(
    'a restarted server challenges with Echo, so a request captured before the restart is not delivered',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const calls: string[] = [];
      const serverStore: Storages = new Map();
      const before = await n.server(keyringOf(p.server, serverStore));
      lightServer(before.server, calls);
      const { client, log: atClient } = await n.client(keyringOf(p.client));
      await n.rt.settle(client.request(URI));
      const captured = before.log.at(-1)!.bytes;
      const serverPivsBefore = msgs(atClient)
        .map((m) => oscoreOf(m)?.partialIv)
        .filter((x) => x !== undefined);
      await before.server.close();
      const after = await n.server(keyringOf(p.server, serverStore));
      lightServer(after.server, calls);
      const attacker = n.raw('192.0.2.66');
      attacker.transport.send(remid(captured, 0x777), SERVER.address, SERVER.port);
      await n.rt.advance(100);
      assert.equal(calls.length, 1, 'the replay was challenged, not delivered');
      assert.equal(attacker.log[0]!.msg!.code, Code.Changed, 'a protected 4.01 with Echo');
      assert.equal((await n.rt.settle(client.request(URI))).text(), 'on');
      assert.equal(calls.length, 2);
      // The server's own Partial IVs jumped past the reserved block: no nonce is reused.
      const serverPivsAfter = msgs(atClient)
        .slice(serverPivsBefore.length)
        .map((m) => oscoreOf(m)?.partialIv)
        .filter((x) => x !== undefined)
        .map((x) => decodePartialIv(x));
      assert.ok(serverPivsAfter.length > 0 && serverPivsAfter.every((s) => s >= 10));
      await n.close();
    },
  );

  it(
    'answers an unprotected request to a protected resource with 4.01 and serves the others',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const { server } = await n.server(keyringOf(p.server));
      lightServer(server, []);
      server.resource('/open').get(() => ({ payload: 'anyone' }));
      const { client } = await n.client(undefined);
      const denied = await n.rt.settle(client.request(URI));
      assert.equal(denied.codeString, '4.01');
      assert.equal((await n.rt.settle(client.request('coap://192.0.2.2/open'))).text(), 'anyone');
      await n.close();
    },
  );

  it('requireProtection refuses every unprotected request, and needs a security layer', T, async () => {
    const n = makeNet();
    const p = pair();
    const { server } = await n.server(keyringOf(p.server), { requireProtection: true });
    server.resource('/open').get(() => ({ payload: 'anyone' }));
    const { client } = await n.client(undefined);
    assert.equal((await n.rt.settle(client.request('coap://192.0.2.2/open'))).codeString, '4.01');
    assert.throws(() => new CoapServer({ requireProtection: true }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    await n.close();
  });

  it(
    'protects Observe: every notification has its own Partial IV and is verified (RFC 8613 §4.1.3.5)',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      let value = 0;
      const { server } = await n.server(keyringOf(p.server));
      server.resource('/count', { obs: true, protected: true }).get(() => ({ payload: String(value) }));
      const { client, log: atClient } = await n.client(keyringOf(p.client));
      const obs = client.observe('coap://192.0.2.2/count');
      const got: string[] = [];
      const done = (async () => {
        for await (const r of obs) {
          got.push(r.text());
          if (got.length === 3) break;
        }
      })();
      for (let i = 0; i < 2; i++) {
        await n.rt.advance(500);
        value++;
        server.notify('/count');
      }
      await n.rt.settle(done);
      assert.deepEqual(got, ['0', '1', '2']);
      const notes = msgs(atClient).filter((m) => findOption(m.options, Opt.Observe) !== undefined);
      // Every notification, the registration's answer included, has its own increasing Partial IV.
      assert.equal(notes.length, 3);
      const pivs = notes.map((m) => decodePartialIv(oscoreOf(m)!.partialIv!));
      assert.ok(pivs[0]! < pivs[1]! && pivs[1]! < pivs[2]!, String(pivs));
      await n.close();
    },
  );

  it('orders a first notification without Partial IV before one with Partial IV 0 (RFC 8613 §7.4.1)', () => {
    const p = pair();
    const serverKeys = keyringOf(p.server);
    const sec = new OscoreClientSecurity(keyringOf(p.client));
    const register = {
      code: 1,
      options: [{ number: Opt.Observe, value: Buffer.alloc(0) }],
      payload: Buffer.alloc(0),
    };
    const req = sec.protect(register, SERVER, 'observe')!;
    const msg = (parts: Omit<CoapMessage, 'type' | 'messageId' | 'token'>): CoapMessage => ({
      type: MessageType.CON,
      messageId: 1,
      token: Buffer.from([1]),
      ...parts,
    });
    const u = unprotectRequest(msg(req.parts), serverKeys.resolve);
    const note = (v: number) =>
      msg({
        code: Code.Content,
        options: [{ number: Opt.Observe, value: Buffer.from([v]) }],
        payload: Buffer.from('x'),
      });
    // Another implementation's server: the first notification reuses the request's nonce.
    const first = protectResponse(note(5), u.context, u.binding, { newPartialIv: false });
    const second = protectResponse(note(6), u.context, u.binding);
    assert.equal(decodePartialIv(oscoreOf(second)!.partialIv!), 0);
    const observe = (m: CoapMessage | undefined) => decodeUint(findOption(m!.options, Opt.Observe)!.value);
    assert.equal(observe(req.open(first, SERVER)), 0);
    assert.equal(observe(req.open(second, SERVER)), 1, 'Partial IV 0 is newer than no Partial IV');
  });

  it(
    'carries a large body with inner block-wise (outer block-wise: oscore-outer-block.test.ts)',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const big = Buffer.alloc(3000, 'x');
      let put = 0;
      const { server } = await n.server(keyringOf(p.server), { oscore: { echo: false } });
      server
        .resource('/big', { protected: true })
        .get(() => ({ payload: big }))
        .put((req) => {
          put = req.payload.length;
          return undefined;
        });
      const { client, log: atClient } = await n.client(keyringOf(p.client));
      const res = await n.rt.settle(client.request('coap://192.0.2.2/big'));
      assert.equal(res.payload.length, 3000);
      assert.ok(
        msgs(atClient).every((m) => findOption(m.options, Opt.Block2) === undefined),
        'Block2 is inner',
      );
      await n.rt.settle(
        client.request({ uri: 'coap://192.0.2.2/big', method: 'PUT', payload: Buffer.alloc(2500) }),
      );
      assert.equal(put, 2500);
      await n.close();
    },
  );

  it('a server without a security layer refuses OSCORE as an unrecognized critical option', T, async () => {
    const n = makeNet();
    const p = pair();
    const { server } = await n.server(undefined);
    server.resource('/light').get(() => ({ payload: 'on' }));
    const { client } = await n.client(keyringOf(p.client));
    await assert.rejects(n.rt.settle(client.request(URI)), (e: unknown) => {
      assert.ok(e instanceof OscoreExchangeError);
      assert.equal(e.code, 'ERR_OSCORE_UNPROTECTED');
      assert.equal(e.responseCode, Code.BadOption);
      return true;
    });
    await n.close();
  });
});

describe('send() to a protected resource (RFC 9175 §2.4 with RFC 7967)', () => {
  it(
    'answers the freshness challenge of a server that just started, so the request is delivered once',
    T,
    async () => {
      const n = makeNet();
      const p = pair();
      const got: string[] = [];
      const { server, log: atServer } = await n.server(keyringOf(p.server));
      server.resource('/lamp', { protected: true }).put((req) => {
        got.push(req.text());
        return undefined;
      });
      const { client, log: atClient } = await n.client(keyringOf(p.client));
      await client.send({ uri: 'coap://192.0.2.2/lamp', method: 'PUT', payload: 'on' });
      await n.rt.advance(5000);
      assert.deepEqual(got, ['on'], 'delivered after the challenge');
      assert.equal(atServer.length, 2, 'the request, then the request with Echo');
      assert.equal(atClient.length, 1, 'the challenge; nothing answers the delivered request');
      await client.send({ uri: 'coap://192.0.2.2/lamp', method: 'PUT', payload: 'off' });
      await n.rt.advance(5000);
      assert.deepEqual(got, ['on', 'off'], 'fresh now: delivered at once');
      assert.equal(atServer.length, 3);
      assert.equal(client.stats().tokens, 0, 'no token left listening');
      await n.close();
    },
  );
});
