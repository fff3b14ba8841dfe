/**
 * Closing a server while a handler is still running: the handler's late answer finds the server
 * closed and is dropped, with no unhandled rejection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverAndClients } from '../support/test-net.js';

describe('closing a server', () => {
  it('does not crash when a handler finishes after the server closed', { timeout: 20_000 }, async () => {
    const s = serverAndClients();
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
});
