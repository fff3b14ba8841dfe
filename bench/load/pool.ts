// Pre-encoded GET requests for the load client: one buffer holding SOCKETS x 65536 requests, each
// with its own Message ID (unique per client socket) and a 4-byte token that numbers it globally.
import { CODE_GET, CON, NON, requestBytes } from './wire.js';

/** Client sockets per run: each has its own 16-bit Message ID space. */
export const SOCKETS = 16;
export const PER_SOCKET = 65536;
export const TOTAL = SOCKETS * PER_SOCKET;

/** Request `g` goes out on socket `g % SOCKETS` with Message ID `g / SOCKETS` and token `g`. */
export class RequestPool {
  readonly length: number;
  private readonly all: Buffer;

  constructor(confirmable: boolean, path: readonly string[]) {
    const template = requestBytes({
      type: confirmable ? CON : NON,
      code: CODE_GET,
      messageId: 0,
      token: Buffer.alloc(4),
      path,
    });
    this.length = template.length;
    this.all = Buffer.allocUnsafe(TOTAL * template.length);
    for (let g = 0; g < TOTAL; g++) {
      const at = g * template.length;
      template.copy(this.all, at);
      this.all.writeUInt16BE(Math.floor(g / SOCKETS), at + 2);
      this.all.writeUInt32BE(g, at + 4);
    }
  }

  get(g: number): Buffer {
    return this.all.subarray(g * this.length, (g + 1) * this.length);
  }
}

const cache = new Map<string, RequestPool>();

/** The pool for a type and path, built once per bench run. */
export function requestPool(confirmable: boolean, path: readonly string[]): RequestPool {
  const key = `${confirmable}|${path.join('/')}`;
  let p = cache.get(key);
  if (p === undefined) cache.set(key, (p = new RequestPool(confirmable, path)));
  return p;
}
