/**
 * @module client/probing
 * RFC 7252 §4.7: a client that gets no response must not send faster than PROBING_RATE. A group
 * that answered nothing is asked again only once the bytes of its last request have drained at
 * that rate (the budget is noted per group in the core's `ProbingBudget`).
 */
import diagnostics from 'node:diagnostics_channel';
import { CoapClosedError } from '../errors.js';
import type { Address } from '../transport/types.js';
import type { ClientCore } from './core.js';

/** `{ group, port, waitMs }` when a request to a silent group waits for PROBING_RATE. */
const waitChannel = diagnostics.channel('coap:group:wait');

/** Waits until `key` may be asked again; announced on `coap:group:wait`. @throws CoapClosedError when the client closed meanwhile. */
export async function waitForProbingBudget(
  core: ClientCore,
  key: string,
  dest: Address,
  signal: AbortSignal | undefined,
): Promise<void> {
  const until = core.silentGroups.take(key);
  if (until === undefined) return;
  const m = core.messenger;
  const wait = until - m.runtime.now();
  if (wait <= 0) return;
  // Announced, so that a caller can tell a deliberate wait from a hang.
  if (waitChannel.hasSubscribers) waitChannel.publish({ group: dest.address, port: dest.port, waitMs: wait });
  await new Promise<void>((resolve) => {
    const t = m.timers.schedule(wait, () => {
      signal?.removeEventListener('abort', done);
      core.closing.removeEventListener('abort', done);
      resolve();
    });
    const done = () => {
      m.timers.cancel(t);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    core.closing.addEventListener('abort', done, { once: true });
  });
  if (core.isClosed()) throw new CoapClosedError();
}
