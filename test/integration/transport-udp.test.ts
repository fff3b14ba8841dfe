/**
 * The UDP transport's group bookkeeping: concurrent joins of one group share one socket and keep
 * every reference. Multicast pinned to lo only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UdpTransport } from '../../src/transport/udp.js';
import { randomPort, trackHandles } from '../support/handles.js';

describe('UDP transport', () => {
  it('keeps both references when the same group is joined twice at once', { timeout: 10_000 }, async () => {
    const check = trackHandles();
    const t = await UdpTransport.create({
      bind: [{ address: '127.0.0.186', port: 0 }],
      ipv4Interface: '127.0.0.1',
    });
    const port = randomPort();
    await Promise.all([t.join('239.255.0.186', port), t.join('239.255.0.186', port)]);
    assert.deepEqual(
      t.memberships().map((m) => [m.group, m.refs]),
      [['239.255.0.186', 2]],
    );
    await t.leave('239.255.0.186', port);
    assert.equal(t.memberships()[0]?.refs, 1, 'one leave drops one reference');
    await t.close();
    await check();
  });
});
