/**
 * /coap-group writes authorized by OSCORE identity (RFC 7390 §2.6.2, §5; RFC 8613): accepted
 * from the configured controller, refused from another identity (4.03) and when unprotected
 * (4.01), with nothing changed by a refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachGroupConfig } from '../../src/group-config/attach.js';
import { IdentityAccessPolicy, parseController } from '../../src/group-config/identity-policy.js';
import type { IncomingRequest } from '../../src/server/request.js';
import { keyringOf, pair } from '../fixtures/oscore-keys.js';
import { makeNet } from '../support/oscore-net.js';

const T = { timeout: 30_000 };
const BODY = JSON.stringify({ a: '239.255.0.9' });

function kidOf(file: ReturnType<typeof pair>['client']): string {
  return (file.oscore as Array<{ senderId: string }>)[0]!.senderId;
}

describe('/coap-group authorized by OSCORE identity', () => {
  it('accepts the controller, refuses an unprotected change with 4.01, changing nothing', T, async () => {
    const keys = pair();
    const n = makeNet();
    try {
      const { server } = await n.server(keyringOf(keys.server));
      const config = await attachGroupConfig(server, {
        policy: new IdentityAccessPolicy({ controllers: [{ kid: kidOf(keys.client) }] }),
        runtime: n.rt,
      });
      const { client: plain } = await n.client(undefined, '192.0.2.7');
      const refused = await n.rt.settle(
        plain.request({ uri: 'coap://192.0.2.2/coap-group', method: 'POST', payload: BODY, format: 256 }),
      );
      assert.equal(refused.codeString, '4.01');
      assert.equal([...config.entries()].length, 0);
      const { client: controller } = await n.client(keyringOf(keys.client));
      const ok = await n.rt.settle(
        controller.request({
          uri: 'coap://192.0.2.2/coap-group',
          method: 'POST',
          payload: BODY,
          format: 256,
        }),
      );
      assert.equal(ok.codeString, '2.01');
      // Reads stay open to anyone by default.
      const read = await n.rt.settle(plain.request('coap://192.0.2.2/coap-group'));
      assert.equal(read.codeString, '2.05');
      assert.match(read.text(), /239\.255\.0\.9/);
      await config.close();
    } finally {
      await n.close();
    }
  });

  it('refuses a change protected by another identity with 4.03', T, async () => {
    const mine = pair();
    const other = generateOther();
    const n = makeNet();
    try {
      // The node knows both clients' contexts; only the first is a controller.
      const serverFile = {
        version: 1 as const,
        oscore: [...(mine.server.oscore as unknown[]), ...(other.server.oscore as unknown[])],
      };
      const { server } = await n.server(keyringOf(serverFile));
      const config = await attachGroupConfig(server, {
        policy: new IdentityAccessPolicy({ controllers: [{ kid: kidOf(mine.client) }] }),
        runtime: n.rt,
      });
      const { client: stranger } = await n.client(keyringOf(other.client), '192.0.2.8');
      const res = await n.rt.settle(
        stranger.request({ uri: 'coap://192.0.2.2/coap-group', method: 'POST', payload: BODY, format: 256 }),
      );
      assert.equal(res.codeString, '4.03');
      assert.equal([...config.entries()].length, 0);
      await config.close();
    } finally {
      await n.close();
    }
  });

  it('decides on identity, not on address', () => {
    const policy = new IdentityAccessPolicy({
      controllers: [parseController('2B4F'), parseController('01@aabb')],
    });
    const req = (security: IncomingRequest['security']) =>
      ({ security, source: { address: '127.0.0.1', port: 1 } }) as IncomingRequest;
    assert.equal(policy.authorizeWrite(req(undefined)), 'unauthenticated');
    assert.equal(policy.authorizeWrite(req({ kind: 'oscore', kid: '2b4f' })), 'allow');
    assert.equal(policy.authorizeWrite(req({ kind: 'oscore', kid: '2b40' })), 'forbidden');
    assert.equal(policy.authorizeWrite(req({ kind: 'group-oscore', kid: '01', idContext: 'aabb' })), 'allow');
    assert.equal(
      policy.authorizeWrite(req({ kind: 'group-oscore', kid: '01', idContext: 'aacc' })),
      'forbidden',
    );
    assert.equal(policy.authorizeRead(req(undefined)), 'allow');
    assert.throws(() => new IdentityAccessPolicy({ controllers: [] }), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    assert.throws(() => parseController('xyz'), { code: 'ERR_COAP_INVALID_ARGUMENT' });
  });
});

function generateOther(): ReturnType<typeof pair> {
  // A second client: its own master secret and Sender ID.
  const a = pair();
  const swap = (f: ReturnType<typeof pair>['client'], id: string) => ({
    version: 1 as const,
    oscore: (f.oscore as Array<Record<string, string>>).map((c) => ({
      ...c,
      masterSecret: `ff${c.masterSecret!.slice(2)}`,
      // On the node, a second client context needs a `peer` (only one may leave it out).
      ...(c.senderId === '00'
        ? { recipientId: id, name: `client-${id}`, peer: '192.0.2.8' }
        : { senderId: id }),
    })),
  });
  return { client: swap(a.client, 'beef'), server: swap(a.server, 'beef') };
}
