/**
 * A raw UDP peer for wire-level tests: it sends hand-made bytes and keeps every datagram it
 * receives, so a test can compare them byte by byte with a test vector. It answers nothing.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface RawUdp {
  readonly port: number;
  send(bytes: Buffer, address: string, port: number): Promise<void>;
  /** Every datagram received so far. */
  received(): Buffer[];
  /** Resolves with the datagrams once `n` were received, or with what came within `ms`. */
  waitFor(n: number, ms: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** Binds a raw peer on `address` (an ephemeral port). */
export async function rawUdp(address = '127.0.0.1'): Promise<RawUdp> {
  const sock: Socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const got: Buffer[] = [];
  const waiters = new Set<() => void>();
  sock.on('message', (msg) => {
    got.push(Buffer.from(msg));
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, address, () => resolve());
  });
  return {
    port: sock.address().port,
    send: (bytes, to, port) =>
      new Promise<void>((resolve, reject) =>
        sock.send(bytes, port, to, (err) => (err ? reject(err) : resolve())),
      ),
    received: () => [...got],
    waitFor: (n, ms) =>
      new Promise<Buffer[]>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...got]);
        };
        const check = () => {
          if (got.length >= n) done();
        };
        const timer = setTimeout(done, ms);
        waiters.add(check);
        check();
      }),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
