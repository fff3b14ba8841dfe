/**
 * The memory transport keeps the Transport contract: the shared conformance suite
 * (test/support/transport-conformance.ts), the same cases as the UDP transport's, on a memory
 * network in virtual time.
 */

import { IFACE, TestNet } from '../support/test-net.js';
import { transportConformance } from '../support/transport-conformance.js';

transportConformance(
  'MemoryTransport',
  async () => {
    const t = new TestNet({ seed: 2 });
    const made: Array<{ close(): Promise<void> }> = [];
    let port = 5683;
    return {
      hosts: ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
      port: () => port++,
      async create(options) {
        const transport = t.net.createTransport(options);
        made.push(transport);
        return transport;
      },
      async until(done) {
        for (let i = 0; i < 100 && !done(); i++) await t.rt.advance(10);
        return done();
      },
      async finish() {
        for (const m of made) await m.close();
        await t.close();
      },
    };
  },
  { iface: IFACE, multicast: { group: '239.255.0.1', iface: IFACE } },
);
