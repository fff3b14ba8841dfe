// Bench child: our CoapServer on the address in argv[2], serving GET /bench/hello ("hello world",
// text/plain) and GET /bench/big/<bytes> (up to 1 MiB, for block-wise). Prints "ready <port>".
import { CoapServer } from '../../src/index.js';
import { serveUntilStopped } from './lifecycle.js';

const host = process.argv[2] ?? '127.0.0.11';
const server = new CoapServer({ bind: [host], port: 0, joinAllCoapNodes: false, discovery: false });
server.get('/bench/hello', () => ({ payload: 'hello world' }));
const big = Buffer.alloc(1 << 20, 0x61);
server.get('/bench/big/:size', (req) => ({ payload: big.subarray(0, Number(req.params.size)), format: 42 }));
await server.listen();
serveUntilStopped(server.endpoints[0]!.port, () => server.close());
