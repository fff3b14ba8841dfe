// Bench child: our CoapProxy on 127.0.0.15 (a random port), forwarding group requests on lo for
// 127.0.0.0/8, with limits wide enough for the bench's repetitions and load. Prints "ready <port>".
import { CoapProxy } from '../../src/index.js';
import { serveUntilStopped } from './lifecycle.js';

const wide = { burst: 1_000_000, perSecond: 1_000_000 };
const proxy = new CoapProxy({
  bind: ['127.0.0.15'],
  port: 0,
  iface: '127.0.0.1',
  groups: { allow: [{ from: '127.0.0.0/8' }] },
  limits: { perClient: 10_000, total: 10_000, clientRate: wide, groupRate: wide, unicastRate: wide },
});
await proxy.listen();
serveUntilStopped(proxy.server.endpoints[0]!.port, () => proxy.close());
