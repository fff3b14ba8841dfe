// Bench child: the origin server of the proxied unicast scenarios, on 127.0.0.16: GET /bench/hello
// ("hello world", Max-Age 60 by default: the proxy's cache answers it) and GET /bench/fresh (the
// same with Max-Age 0: every request goes through to here). Prints "ready <port>".
import { CoapServer } from '../../src/index.js';
import { serveUntilStopped } from './lifecycle.js';

const server = new CoapServer({ bind: ['127.0.0.16'], port: 0, joinAllCoapNodes: false, discovery: false });
server.get('/bench/hello', () => ({ payload: 'hello world' }));
server.get('/bench/fresh', () => ({ payload: 'hello world', maxAge: 0 }));
await server.listen();
serveUntilStopped(server.endpoints[0]!.port, () => server.close());
