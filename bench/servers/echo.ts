// Bench child: the ceiling. A raw dgram server that answers each request with the smallest
// correct response (ACK for CON, NON otherwise; 2.05, same token, Content-Format 0, "hello world")
// without decoding options or remembering anything.
import dgram from 'node:dgram';
import { serveUntilStopped } from './lifecycle.js';

const host = process.argv[2] ?? '127.0.0.14';
const payload = Buffer.from('hello world');
const sock = dgram.createSocket('udp4');
sock.on('error', () => {});
let mid = 0;
sock.on('message', (msg, rinfo) => {
  if (msg.length < 4 || msg[0]! >> 6 !== 1) return;
  const tkl = msg[0]! & 15;
  const type = (msg[0]! >> 4) & 3;
  if (tkl > 8 || msg.length < 4 + tkl || type > 1 || msg[1] === 0) return;
  const out = Buffer.allocUnsafe(6 + tkl + payload.length);
  out[0] = 0x40 | ((type === 0 ? 2 : 1) << 4) | tkl;
  out[1] = 0x45;
  if (type === 0) {
    out[2] = msg[2]!;
    out[3] = msg[3]!;
  } else {
    mid = (mid + 1) & 0xffff;
    out.writeUInt16BE(mid, 2);
  }
  msg.copy(out, 4, 4, 4 + tkl);
  out[4 + tkl] = 0xc0; // Content-Format 0 (zero-length uint)
  out[5 + tkl] = 0xff;
  payload.copy(out, 6 + tkl);
  sock.send(out, rinfo.port, rinfo.address);
});
sock.bind({ address: host, port: 0 }, () => {
  serveUntilStopped(sock.address().port, () => new Promise<void>((r) => sock.close(() => r())));
});
