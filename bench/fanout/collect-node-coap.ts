// Bench child: node-coap's client sends the same multicast GET (multicast: true, an Agent on a
// socket whose multicast interface is 127.0.0.1) and collects until N responses arrived or the
// window closed, REPS times. Prints the same JSON line as collect-ours.ts.
// Usage: collect-node-coap.ts PORT N LEISURE_MS REPS
import dgram from 'node:dgram';
import { Agent, request } from 'coap';
import { collectLoop } from './measure.js';

const [port, n, leisureMs, reps] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const socket = dgram.createSocket('udp4');
await new Promise<void>((r) => socket.bind({ address: '127.0.0.1', port: 0 }, r));
socket.setMulticastInterface('127.0.0.1');
socket.setMulticastTTL(1);
const agent = new Agent({ type: 'udp4', socket });
agent.on('error', () => {});
try {
  const result = await collectLoop(reps, leisureMs, () => {
    const window = leisureMs + 3000;
    return new Promise<number>((resolve) => {
      let count = 0;
      const t = setTimeout(() => resolve(count), window);
      const req = request({
        host: '224.0.1.187',
        port,
        pathname: '/bench/hello',
        multicast: true,
        multicastTimeout: window,
        agent,
      });
      req.on('response', (res: { code: string }) => {
        if (res.code === '2.05') count++;
        if (count >= n) {
          clearTimeout(t);
          resolve(count);
        }
      });
      req.on('error', () => {});
      req.end();
    });
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  // node-coap never calls close()'s callback for an agent on a given socket: don't wait for it.
  agent.close();
  await new Promise<void>((r) => socket.close(() => r()));
  // node-coap's multicast timer keeps the loop alive for the whole window.
  process.exit(0);
}
