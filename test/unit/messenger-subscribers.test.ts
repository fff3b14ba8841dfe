/**
 * One endpoint, several users: a server and clients share one messenger. Requests have one
 * owner, refused to a second; responses reach whichever client waits for their token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Messenger } from '../../src/entry/transport.js';
import { CoapClient, CoapServer } from '../../src/index.js';
import { TestNet } from '../support/test-net.js';

function setup() {
  const t = new TestNet({ seed: 11 });
  const shared = new Messenger({
    transport: t.endpoint({ address: '192.0.2.1', port: 5683 }).transport,
    runtime: t.rt,
  });
  return { rt: t.rt, net: t.net, shared };
}

describe('a messenger shared by a server and clients', () => {
  it('refuses a second server and lets the first keep its requests', { timeout: 10000 }, async () => {
    const { rt, net, shared } = setup();
    shared.setRequestHandler((ex) => ex.respond({ code: 69, options: [], payload: Buffer.from('first') }));
    assert.throws(
      () => shared.setRequestHandler((ex) => ex.reject()),
      (err: Error & { code?: string }) => err.code === 'ERR_COAP_ENDPOINT_TAKEN',
    );
    const client = await CoapClient.create({
      transport: net.createTransport({ bind: [{ address: '192.0.2.9', port: 40000 }] }),
      runtime: rt,
    });
    const res = rt.settle(client.request('coap://192.0.2.1/x'));
    assert.equal((await res).text(), 'first');
    await client.close();
    await shared.close();
  });

  it('gives the endpoint back when the server closes, so another may take it', {
    timeout: 10000,
  }, async () => {
    const { rt, shared } = setup();
    const give = shared.setRequestHandler((ex) => ex.reject());
    give();
    const again = shared.setRequestHandler((ex) => ex.reject());
    again();
    await rt.advance(0);
    await shared.close();
  });

  it('delivers each response to the client that sent its request', { timeout: 10000 }, async () => {
    const { rt, net, shared } = setup();
    const server = new CoapServer({
      transport: net.createTransport({ bind: [{ address: '192.0.2.2', port: 5683 }] }),
      runtime: rt,
    });
    server.get('/who', (req) => ({ payload: req.query.join('&') }));
    await server.listen();
    const a = await CoapClient.create({ messenger: shared });
    const b = await CoapClient.create({ messenger: shared });
    const [ra, rb] = await Promise.all([
      rt.settle(a.request('coap://192.0.2.2/who?a')),
      rt.settle(b.request('coap://192.0.2.2/who?b')),
    ]);
    assert.equal(ra.text(), 'a');
    assert.equal(rb.text(), 'b');
    // A closed client stops listening; the other still gets its answers.
    await a.close();
    assert.equal((await rt.settle(b.request('coap://192.0.2.2/who?b2'))).text(), 'b2');
    await b.close();
    await server.close();
    await shared.close();
  });
});
