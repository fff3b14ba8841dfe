// Bench child: our HTTP gateway on 127.0.0.1 (a random port), sending group requests on lo, with
// limits wide enough for the bench's repetitions. Prints "ready <http port>".
import { startHttpGateway } from '../../src/index.js';
import { serveUntilStopped } from './lifecycle.js';

const gateway = await startHttpGateway({
  iface: '127.0.0.1',
  port: 0,
  coapBind: [{ address: '127.0.0.1', port: 0 }],
  limits: { groupRate: { rate: 100, burst: 100 }, clientRate: { rate: 100, burst: 100 } },
});
serveUntilStopped(gateway.address!.port, () => gateway.close());
