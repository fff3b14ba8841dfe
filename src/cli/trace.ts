/**
 * @module cli/trace
 * What the CLI shows on stderr from the library's diagnostics channels: in `serve`, every
 * handler that failed (`coap:server:error`, answered 5.00); and a wait of more than a second
 * before a request to a group that did not answer (`coap:group:wait`, PROBING_RATE,
 * RFC 7252 §4.7), so that a deliberate wait is not taken for a hang. `--verbose` adds every
 * message sent and received (cli/trace-messages).
 */
import diagnostics from 'node:diagnostics_channel';
import { endpoint } from './output.js';

/** Where trace lines go (stderr in the CLI, a buffer in tests). */
export type Write = (line: string) => void;

/** Subscribes `fn` to `name` and returns the unsubscribe. */
export function watch<T>(name: string, fn: (m: T) => void): () => void {
  const listener = (m: unknown) => fn(m as T);
  diagnostics.subscribe(name, listener);
  return () => diagnostics.unsubscribe(name, listener);
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
