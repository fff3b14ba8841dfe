/**
 * @module cli/trace
 * What the CLI shows on stderr from the library's diagnostics channels: with `--verbose` every
 * message sent and received, one line each (`coap:message:sent`, `coap:message:received`); in
 * `serve`, every handler that failed (`coap:server:error`, answered 5.00); and a wait of more than
 * a second before a request to a group that did not answer (`coap:group:wait`, PROBING_RATE,
 * RFC 7252 §4.7), so that a deliberate wait is not taken for a hang.
 */
import diagnostics from 'node:diagnostics_channel';
import { decodeMessage } from '../entry/codec.js';
import { type CoapMessage, describeMessage } from '../index.js';
import { endpoint } from './output.js';

/** Where trace lines go (stderr in the CLI, a buffer in tests). */
export type Write = (line: string) => void;

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

/** Subscribes `fn` to `name` and returns the unsubscribe. */
function watch<T>(name: string, fn: (m: T) => void): () => void {
  const listener = (m: unknown) => fn(m as T);
  diagnostics.subscribe(name, listener);
  return () => diagnostics.unsubscribe(name, listener);
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

/**
 * `serve`: a handler that threw (not a `CoapResponseError`) was answered with 5.00; say which
 * error, with its stack when `debug`. Returns the unsubscribe.
 */
export function logServerErrors(write: Write, debug: boolean): () => void {
  return watch<{ error: unknown }>('coap:server:error', ({ error }) => {
    const e = error as Error | undefined;
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(error);
    write(`a request handler failed and was answered 5.00: ${what}`);
    if (debug && e instanceof Error && e.stack) write(e.stack);
  });
}

/** Announces a PROBING_RATE wait of more than a second. Returns the unsubscribe. */
export function announceWaits(write: Write): () => void {
  return watch<{ group: string; port: number; waitMs: number }>('coap:group:wait', (e) => {
    if (e.waitMs <= 1000) return;
    write(
      `waiting ${Math.ceil(e.waitMs / 1000)} s before asking ${endpoint({ address: e.group, port: e.port })} again: it did not answer the last request (PROBING_RATE, RFC 7252 §4.7)`,
    );
  });
}
