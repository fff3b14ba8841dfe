/**
 * The targets of direct requests to IP literals, worked out once per URI text (client/target-cache):
 * repeated requests carry the same Uri-* options, refusals are never remembered, and a request
 * through a proxy never takes a remembered direct target.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CachedTarget, TargetCache } from '../../src/client/target-cache.js';
import { TestNet } from '../support/test-net.js';

async function setup(clientOptions: { proxy?: string } = {}) {
  const t = new TestNet({ seed: 5 });
  const seen: string[] = [];
  const { server } = await t.server({ address: '192.0.2.2', port: 5683 }, {}, (s) =>
    s.get('/a/b', (req) => {
      seen.push(`${req.path.join('/')}?${req.query.join('&')}`);
      return { code: '2.05', payload: 'ok' };
    }),
  );
  const { server: other } = await t.server({ address: '192.0.2.3', port: 5683 });
  const { client } = await t.client({ address: '192.0.2.1', port: 40000 }, clientOptions);
  const close = async () => {
    await client.close();
    await server.close();
    await other.close();
  };
  return { rt: t.rt, net: t.net, client, seen, close };
}

describe('direct targets kept per URI text', () => {
  it('sends the same path and query on every request to the same text', { timeout: 10000 }, async () => {
    const s = await setup();
    for (let i = 0; i < 3; i++) {
      const res = s.client.request('coap://192.0.2.2:5683/a/./b?x=1&y=%262');
      await s.rt.advance(10);
      assert.equal((await res).codeString, '2.05');
    }
    assert.deepEqual(s.seen, ['a/b?x=1&y=&2', 'a/b?x=1&y=&2', 'a/b?x=1&y=&2']);
    await s.close();
  });

  it('refuses a multicast literal and a bad URI every time, sending nothing', {
    timeout: 10000,
  }, async () => {
    const s = await setup();
    for (let i = 0; i < 2; i++) {
      await assert.rejects(s.client.request('coap://224.0.1.187/a/b'), { code: 'ERR_COAP_GROUP_USE_GROUP' });
      await assert.rejects(s.client.request('coap://192.0.2.2:99999/a/b'), { code: 'ERR_COAP_INVALID_URI' });
      await assert.rejects(s.client.request('coaps://192.0.2.2/a/b'), {
        code: 'ERR_COAP_UNSUPPORTED_SCHEME',
      });
    }
    assert.equal(s.net.stats.sent, 0);
    await s.close();
  });

  it('never takes a kept direct target for a request through a proxy', { timeout: 10000 }, async () => {
    const s = await setup({ proxy: 'coap://192.0.2.3' });
    const direct = s.client.request({ uri: 'coap://192.0.2.2/a/b', proxy: false });
    await s.rt.advance(10);
    assert.equal((await direct).codeString, '2.05');
    // 192.0.2.3 is a server that does not proxy: RFC 7252 §5.7.2 has it answer 5.05.
    const proxied = s.client.request('coap://192.0.2.2/a/b');
    await s.rt.advance(10);
    const res = await proxied;
    assert.equal(res.codeString, '5.05');
    assert.deepEqual(s.seen, ['a/b?']);
    await s.close();
  });
});

describe('TargetCache', () => {
  it('keeps at most 256 texts and forgets the oldest first', () => {
    const cache = new TargetCache();
    const target = (i: number): CachedTarget => ({
      dest: { address: '192.0.2.2', port: i + 1 },
      proxy: undefined,
      options: [],
      key: `192.0.2.2|${i + 1}`,
    });
    for (let i = 0; i < 257; i++) cache.set(`coap://192.0.2.2:${i + 1}/`, target(i));
    assert.equal(cache.get('coap://192.0.2.2:1/'), undefined);
    assert.equal(cache.get('coap://192.0.2.2:2/')?.dest.port, 2);
    assert.equal(cache.get('coap://192.0.2.2:257/')?.dest.port, 257);
  });
});
