/**
 * The UDP transport's group bookkeeping: concurrent joins of one group share one socket and keep
 * every reference; unicast sockets added and removed while it runs. Multicast pinned to lo only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Datagram } from '../../src/transport/types.js';
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

  it('binds an address added while it runs, and closes one removed', { timeout: 10_000 }, async () => {
    const check = trackHandles();
    const t = await UdpTransport.create({ bind: [{ address: '127.0.0.187', port: 0 }] });
    const peer = await UdpTransport.create({ bind: [{ address: '127.0.0.188', port: 0 }] });
    try {
      const got: Datagram[] = [];
      t.setReceiver((d) => got.push(d));
      const added = await t.addSocket({ address: '127.0.0.189', port: 0 });
      assert.deepEqual(
        t.sockets.map((s) => s.address),
        ['127.0.0.187', '127.0.0.189'],
      );
      await new Promise<void>((resolve, reject) =>
        peer.send(Buffer.from('hi'), added.address, added.port, undefined, (e) =>
          e ? reject(e) : resolve(),
        ),
      );
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got[0]?.local, added, 'received on the added socket');
      assert.equal(got[0]?.multicast, false);
      await t.removeSocket(added);
      assert.deepEqual(
        t.sockets.map((s) => s.address),
        ['127.0.0.187'],
      );
      const err = await new Promise<Error | null>((resolve) =>
        t.send(Buffer.from('x'), '127.0.0.188', 1, added, resolve),
      );
      assert.equal(
        (err as { code?: string } | null)?.code,
        'ERR_COAP_NO_SOCKET',
        'a removed socket sends nothing',
      );
      await assert.rejects(t.addSocket({ address: '224.0.1.187', port: 0 }), {
        code: 'ERR_COAP_INVALID_ARGUMENT',
      });
    } finally {
      await t.close();
      await peer.close();
    }
    await assert.rejects(t.addSocket({ address: '127.0.0.190', port: 0 }), { code: 'ERR_COAP_CLOSED' });
    await check();
  });
});
