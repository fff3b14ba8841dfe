/**
 * Tapping a memory transport: every datagram it receives is logged with its virtual time, its
 * bytes and, when they decode, the message, before it goes on to the receiver installed.
 */
import { decodeMessage } from '../../src/message/decode.js';
import type { CoapMessage } from '../../src/message/types.js';
import type { Runtime } from '../../src/runtime.js';
import type { MemoryTransport } from '../../src/transport/memory.js';
import type { Address, Datagram } from '../../src/transport/types.js';

/** One datagram a tapped transport received. `msg` is undefined when it does not decode. */
export interface Received {
  readonly at: number;
  readonly bytes: Buffer;
  readonly msg: CoapMessage | undefined;
  readonly remote: Address;
  readonly multicast: boolean;
}

/**
 * Records every datagram `t` receives, then passes it on to whatever receiver is installed
 * (before or after the tap). Install the tap before creating a Messenger on `t`.
 */
export function tap(t: MemoryTransport, runtime: Runtime): Received[] {
  const log: Received[] = [];
  let inner: (d: Datagram) => void = () => {};
  const original = t.setReceiver.bind(t);
  original((d) => {
    let msg: CoapMessage | undefined;
    try {
      msg = decodeMessage(Buffer.from(d.data));
    } catch {
      msg = undefined;
    }
    log.push({
      at: runtime.now(),
      bytes: Buffer.from(d.data),
      msg,
      remote: d.remote,
      multicast: d.multicast,
    });
    inner(d);
  });
  t.setReceiver = (r) => {
    inner = r;
  };
  return log;
}
