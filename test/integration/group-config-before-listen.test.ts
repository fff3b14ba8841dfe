/**
 * `attachGroupConfig(server, { beforeListen: true })`, which `serve` uses so that `/coap-group`
 * is never missing (RFC 7390 §2.6.2): the state is loaded and the resource registered before the
 * server binds; a state that cannot be used fails before any socket exists; the saved groups are
 * joined by `refresh()` once the server listens. Nodes use 127.0.0.59; groups stay on lo.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMembership } from '../../src/entry/codec.js';
import { attachGroupConfig, CoapClient, CoapServer, STATE_FILE_NAME } from '../../src/index.js';
import { randomPort } from '../support/handles.js';

const T = { timeout: 20_000 };

describe('attachGroupConfig before listen()', () => {
  it('serves /coap-group from the first request and joins the saved groups on refresh()', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-before-'));
    const port = randomPort();
    const server = new CoapServer({ bind: ['127.0.0.59'], port, iface: 'lo', joinAllCoapNodes: false });
    const client = await CoapClient.create();
    try {
      // A saved state with one group, as a restarted node finds it.
      const earlier = await attachGroupConfig(server, { store: dir, beforeListen: true });
      await earlier.add(parseMembership('{"a":"239.255.59.1"}'));
      await earlier.close();
      const config = await attachGroupConfig(server, { store: dir, beforeListen: true });
      assert.ok(
        server.resources().some((r) => r.path === '/coap-group'),
        'the resource is there before listen()',
      );
      assert.deepEqual(server.memberships(), [], 'nothing joined before listen()');
      await server.listen();
      const res = await client.request(`coap://127.0.0.59:${port}/coap-group`);
      assert.equal(res.codeString, '2.05');
      assert.equal(res.text(), '{"1":{"a":"239.255.59.1"}}');
      await config.refresh();
      assert.deepEqual(
        server.memberships().map((m) => [m.group, m.port]),
        [['239.255.59.1', 5683]],
      );
      assert.equal(config.status().entries[0]?.state, 'joined');
      await config.close();
    } finally {
      await client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a corrupt state fails before the server has bound anything', T, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-before-'));
    const server = new CoapServer({ bind: ['127.0.0.59'], port: randomPort(), joinAllCoapNodes: false });
    try {
      writeFileSync(join(dir, STATE_FILE_NAME), '{ not json');
      await assert.rejects(attachGroupConfig(server, { store: dir, beforeListen: true }), {
        code: 'ERR_COAP_GROUP_STATE_CORRUPT',
      });
      assert.deepEqual(server.endpoints, []);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without beforeListen, a server that is not listening is still refused', T, async () => {
    const server = new CoapServer({ bind: ['127.0.0.59'], port: randomPort(), joinAllCoapNodes: false });
    await assert.rejects(attachGroupConfig(server), { code: 'ERR_COAP_NOT_LISTENING' });
    await server.close();
  });
});
