// A neutral block-wise fetcher (RFC 7959 §2.4): GETs a resource block by block with Block2, one
// CON request at a time, and reports the transfer time. Also used to probe whether a server does
// block-wise transfers at all.
import dgram from 'node:dgram';
import { CODE_CONTENT, CODE_GET, CON, readResponse, requestBytes } from './wire.js';

export type BlockFetch =
  | { readonly ok: true; readonly ms: number; readonly bytes: number; readonly blocks: number }
  | { readonly ok: false; readonly reason: string };

const MAX_BLOCKS = 8192;

export async function fetchBlockwise(
  host: string,
  port: number,
  path: readonly string[],
  szx = 6,
  timeoutMs = 1000,
): Promise<BlockFetch> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
  await new Promise<void>((r) => s.connect(port, host, r));
  let waiting: ((b: Buffer) => void) | undefined;
  s.on('message', (b) => waiting?.(b));
  const exchange = (req: Buffer, token: Buffer) =>
    new Promise<Buffer | undefined>((resolve) => {
      const t = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (b: Buffer | undefined) => {
        clearTimeout(t);
        waiting = undefined;
        resolve(b);
      };
      waiting = (b) => {
        const r = readResponse(b);
        if (r !== undefined && r.code !== 0 && r.token.equals(token)) finish(b);
      };
      s.send(req);
    });
  try {
    const t0 = performance.now();
    let bytes = 0;
    // Bounded: MAX_BLOCKS blocks at most.
    for (let num = 0; num < MAX_BLOCKS; num++) {
      const token = Buffer.alloc(4);
      token.writeUInt32BE(num);
      const req = requestBytes({
        type: CON,
        code: CODE_GET,
        messageId: num & 0xffff,
        token,
        path,
        block2: (num << 4) | szx,
      });
      const b = await exchange(req, token);
      if (b === undefined) return { ok: false, reason: `no answer to block ${num} within ${timeoutMs} ms` };
      const r = readResponse(b)!;
      if (r.code !== CODE_CONTENT)
        return {
          ok: false,
          reason: `block ${num} answered ${r.code >> 5}.${String(r.code & 31).padStart(2, '0')}`,
        };
      if (r.block2 < 0) return { ok: false, reason: 'the response carries no Block2 option' };
      bytes += r.payload.length;
      if ((r.block2 & 8) === 0) return { ok: true, ms: performance.now() - t0, bytes, blocks: num + 1 };
    }
    return { ok: false, reason: `more than ${MAX_BLOCKS} blocks` };
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
}
