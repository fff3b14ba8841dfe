/**
 * `client.send()`: a request that wants no response (RFC 7967 No-Response 26).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestNet } from '../support/test-net.js';

async function setup() {
  const t = new TestNet({ seed: 3 });
  const seen: string[] = [];
  const { server } = await t.server({ address: '192.0.2.2', port: 5683 }, {}, (s) =>
    s.put('/light', (req) => {
      seen.push(req.text());
      return { code: '2.04' };
    }),
  );
  const { client } = await t.client({ address: '192.0.2.1', port: 40000 });
  return { rt: t.rt, net: t.net, server, client, seen };
}

describe('client.send (No-Response 26)', () => {
  it('sends a NON with No-Response 26 and the server answers nothing', { timeout: 10000 }, async () => {
    const s = await setup();
    await s.client.send({ uri: 'coap://192.0.2.2/light', method: 'PUT', payload: 'on' });
    await s.rt.advance(100);
    assert.deepEqual(s.seen, ['on']);
    // Two datagrams would mean a response was sent; the request alone is one.
    assert.equal(s.net.stats.sent, 1);
    assert.equal(s.client.stats().messenger.pending, 0);
    await s.client.close();
    await s.server.close();
  });

  it('resolves a CON once the empty ACK arrives', { timeout: 10000 }, async () => {
    const s = await setup();
    const done = s.client.send({
      uri: 'coap://192.0.2.2/light',
      method: 'PUT',
      payload: 'off',
      confirmable: true,
    });
    await s.rt.advance(100);
    await done;
    assert.deepEqual(s.seen, ['off']);
    assert.equal(s.net.stats.sent, 2, 'the request and its empty ACK');
    await s.client.close();
    await s.server.close();
  });
});

describe('a signal that is already aborted', () => {
  it('rejects request() with CoapAbortError and sends nothing', { timeout: 10000 }, async () => {
    const s = await setup();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(s.client.request({ uri: 'coap://192.0.2.2/light', signal: ac.signal }), {
      code: 'ERR_COAP_ABORTED',
    });
    assert.equal(s.net.stats.sent, 0);
    await s.client.close();
    await s.server.close();
  });
});
