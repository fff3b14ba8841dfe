// Bench child: a group GET to 224.0.1.187:PORT/bench/hello through our proxy (127.0.0.15:PROXY_PORT):
// a CON request with Proxy-Uri and Multicast-Timeout, then the time until the N-th relayed 2.05
// on its token (each carries its member's Reply-From), REPS times. Raw message layer, so what is
// timed is the proxy and the network, not a client stage. Prints one JSON line, as the fan-out
// collectors do. Usage: collect-proxy.ts PROXY_PORT PORT N LEISURE_MS REPS
import { randomBytes } from 'node:crypto';
import { encodeUint } from '../../src/entry/codec.js';
import { Messenger, UdpTransport } from '../../src/entry/transport.js';
import { collectLoop } from '../fanout/measure.js';

const [proxyPort, port, n, leisureMs, reps] = process.argv.slice(2, 7).map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const transport = await UdpTransport.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
const messenger = new Messenger({ transport });
const uri = Buffer.from(`coap://224.0.1.187:${port}/bench/hello`);
// Whole seconds (groupcomm-proxy §2): the Leisure and a margin, as the direct collector's window.
const timeout = Math.ceil((leisureMs + 3000) / 1000);
try {
  const result = await collectLoop(reps, leisureMs, () => {
    const token = randomBytes(4);
    return new Promise<number>((resolve) => {
      let count = 0;
      const finish = () => {
        clearTimeout(limit);
        off();
        resolve(count);
      };
      const off = messenger.addResponseListener((msg) => {
        if (!msg.token.equals(token)) return false;
        if (msg.code === 0x45 && ++count >= n) finish();
        return true;
      });
      const limit = setTimeout(finish, timeout * 1000);
      messenger.send(
        {
          type: 0,
          code: 1,
          token,
          options: [
            { number: 35, value: uri },
            { number: 65026, value: encodeUint(timeout) },
          ],
          payload: Buffer.alloc(0),
        },
        { address: '127.0.0.15', port: proxyPort },
      );
    });
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await messenger.close();
}
