/**
 * Regressions found by review: a server closing while a handler is still running, later blocks
 * served only to the requester the handler answered, observations cancelled before they are
 * sent, and waiters on a closing messenger.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeBlock } from '../../src/block/index.js';
import { CoapClient, CoapServer, FakeRuntime, MemoryNetwork, Opt } from '../../src/index.js';

const T = { timeout: 20_000 };

async function setup() {
  const rt = new FakeRuntime({ seed: 5 });
  const net = new MemoryNetwork({ runtime: rt });
  const server = new CoapServer({
    transport: net.createTransport({ bind: [{ address: '192.0.2.2', port: 5683 }] }),
    runtime: rt,
  });
  const client = (address: string) =>
    CoapClient.create({ transport: net.createTransport({ bind: [{ address, port: 40000 }] }), runtime: rt });
  return { rt, net, server, client };
}

function drive<T>(rt: FakeRuntime, p: Promise<T>, steps = 600): Promise<T> {
  return rt.settle(p, { maxMs: steps * 100, step: 100 });
}

describe('review regressions', () => {
  it('does not crash when a handler finishes after the server closed', T, async () => {
    const s = await setup();
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    try {
      s.server.get('/slow', () => new Promise((r) => s.rt.setTimeout(() => r({ payload: 'late' }), 1500)));
      await s.server.listen();
      const c = await s.client('192.0.2.1');
      const pending = c.request('coap://192.0.2.2/slow').catch(() => undefined);
      await s.rt.advance(1200);
      await s.server.close();
      await s.rt.advance(1000);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(rejections, []);
      await c.close();
      await pending;
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('serves a later block only to the requester the handler answered', T, async () => {
    const s = await setup();
    s.server.get('/secret', (req) => {
      if (req.source.address !== '192.0.2.1') throw new Error('refused');
      return { payload: Buffer.alloc(3000, 7) };
    });
    await s.server.listen();
    const a = await s.client('192.0.2.1');
    const b = await s.client('192.0.2.9');
    assert.equal((await drive(s.rt, a.request('coap://192.0.2.2/secret'))).payload.length, 3000);
    const stolen = await drive(
      s.rt,
      b.request({
        uri: 'coap://192.0.2.2/secret',
        options: [{ number: Opt.Block2, value: encodeBlock({ num: 1, more: false, szx: 6 }) }],
      }),
    );
    assert.equal(stolen.codeString, '5.00');
    await a.close();
    await b.close();
    await s.server.close();
  });

  it('sends nothing for an observation cancelled before it went out', T, async () => {
    const s = await setup();
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

  it('settles a ping and a confirmable send when the client closes', T, async () => {
    const s = await setup();
    const c = await s.client('192.0.2.1');
    // Nobody at 192.0.2.3: both would wait for retransmissions.
    const ping = c.ping('coap://192.0.2.3/');
    const send = c.send({ uri: 'coap://192.0.2.3/x', method: 'PUT', payload: 'p', confirmable: true }).then(
      () => 'sent',
      (e: { code?: string }) => e.code,
    );
    await s.rt.advance(100);
    await c.close();
    assert.equal(await ping, false);
    assert.equal(await send, 'ERR_COAP_CLOSED');
  });
});

describe('an Observe registration nobody answers', () => {
  it('ends with ERR_COAP_TIMEOUT instead of waiting forever (NON registration lost)', T, async () => {
    const s = await setup();
    const c = await s.client('192.0.2.1');
    const it = c.observe({ uri: 'coap://192.0.2.3/c', confirmable: false })[Symbol.asyncIterator]();
    await assert.rejects(drive(s.rt, it.next(), 2000), { code: 'ERR_COAP_TIMEOUT' });
    assert.equal(c.stats().tokens, 0);
    await c.close();
  });
});
