/**
 * @module cli/trace-messages
 * `--verbose`: every message sent and received, one line each on stderr, from the library's
 * `coap:message:sent` and `coap:message:received` diagnostics channels (messenger/trace). Loaded
 * only when asked for: it needs the message codec.
 */
import { type CoapMessage, decodeMessage, describeMessage } from '../entry/codec.js';
import { endpoint } from './output.js';
import { type Write, watch } from './trace.js';

interface Sent {
  bytes: Buffer;
  remote: { address: string; port: number };
  message?: CoapMessage;
}
interface Received {
  message: CoapMessage;
  remote: { address: string; port: number };
  multicast?: boolean;
}

/** `--verbose`: one line per message sent or received. Returns the unsubscribe. */
export function traceMessages(write: Write): () => void {
  const describe = (m: CoapMessage | undefined, bytes?: Buffer) => {
    try {
      return describeMessage(m ?? decodeMessage(bytes!));
    } catch {
      return `${bytes?.length ?? 0} unreadable bytes`;
    }
  };
  const offSent = watch<Sent>('coap:message:sent', (e) =>
    write(`sent ${describe(e.message, e.bytes)} to ${endpoint(e.remote)}`),
  );
  const offReceived = watch<Received>('coap:message:received', (e) =>
    write(`received ${describe(e.message)} from ${endpoint(e.remote)}${e.multicast ? ' (multicast)' : ''}`),
  );
  return () => {
    offSent();
    offReceived();
  };
}
