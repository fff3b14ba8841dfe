// Bench child: node-coap's server on the address in argv[2], serving the same resources as ours.
// Default options: its `sendAcksForNonConfirmablePackets: false` also drops piggy-backed ACKs,
// so with it node-coap answers nothing at all (it answers a NON with one NON either way).
import { createServer } from 'coap';
import { serveUntilStopped } from './lifecycle.js';

const host = process.argv[2] ?? '127.0.0.12';
const big = Buffer.alloc(1 << 20, 0x61);
const server = createServer({ type: 'udp4' }, (req, res) => {
  if (req.url === '/bench/hello') {
    res.setOption('Content-Format', 'text/plain');
    res.end('hello world');
  } else if (req.url.startsWith('/bench/big/')) {
    res.setOption('Content-Format', 'application/octet-stream');
    res.end(big.subarray(0, Number(req.url.slice('/bench/big/'.length))));
  } else {
    res.code = '4.04';
    res.end();
  }
});
server.listen(0, host, () => {
  const sock = server._sock as { address(): { port: number } } | null;
  serveUntilStopped(sock?.address().port ?? 0, () => new Promise<void>((r) => server.close(() => r())));
});
