/**
 * The UDP transport keeps the Transport contract: the shared conformance suite
 * (test/support/transport-conformance.ts), the same cases as the memory transport's, on
 * loopback. The multicast cases run on lo in a private network namespace made for the run, so
 * nothing they send can leave it; the unicast cases also run where the suite was started.
 */
import { test } from 'node:test';
import { UdpTransport } from '../../src/transport/udp.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { insideNetns, LOOPBACK_SETUP, runSelfInNetns } from '../support/netns.js';
import { transportConformance, untilReal } from '../support/transport-conformance.js';

const IFACE = '127.0.0.1';

if (!insideNetns()) {
  test('the multicast cases, on lo in a private network namespace', { timeout: 120_000 }, (t) =>
    runSelfInNetns(t, import.meta.filename, LOOPBACK_SETUP),
  );
}

transportConformance(
  'UdpTransport',
  async () => {
    const check = trackHandles();
    const made: UdpTransport[] = [];
    // A different port range per case, so a case never meets the sockets of the one before.
    const base = randomPort();
    let next = 0;
    return {
      hosts: ['127.0.0.201', '127.0.0.202', '127.0.0.203'],
      port: () => base + next++,
      async create(options) {
        const t = await UdpTransport.create(options);
        made.push(t);
        return t;
      },
      until: (done) => untilReal(done),
      async finish() {
        for (const t of made) await t.close();
        await check();
      },
    };
  },
  {
    iface: IFACE,
    ...(insideNetns() ? { multicast: { group: '239.255.0.201', iface: IFACE } } : {}),
  },
);
