/**
 * @module client/deregister
 * Deregistering an observation (RFC 7641 §3.6): a GET with Observe 1 and the observation's
 * token, sent once as a NON that nothing waits on (a notification that still comes finds no
 * token and is rejected). Closing the client waits, for a bounded time, until these datagrams
 * have left, so the sockets do not close under them.
 */
import { encodeMessage } from '../message/encode.js';
import type { CoapMessage } from '../message/types.js';
import type { Messenger } from '../messenger/messenger.js';
import type { Address } from '../transport/types.js';
import type { Scheduled } from '../util/timer-queue.js';

/** How long `close()` waits at most for deregistrations to leave, ms. */
export const DEREGISTER_WAIT_MS = 1000;

/**
 * Sends `message` once, untracked; resolves when the transport has handed it to the socket
 * (or failed to). Never rejects: a deregistration that cannot go lets the observation lapse
 * (the server removes it when a notification is rejected, RFC 7641 §3.6).
 */
export function sendOnce(
  m: Messenger,
  message: Omit<CoapMessage, 'messageId'>,
  dest: Address,
): Promise<void> {
  if (m.isClosed) return Promise.resolve();
  try {
    const msg: CoapMessage = { ...message, messageId: m.allocateMessageId() };
    const bytes = encodeMessage(msg);
    return new Promise((resolve) => m.transmit(bytes, dest, undefined, msg, () => resolve()));
  } catch {
    return Promise.resolve();
  }
}

/** Waits until every promise of `work` settled, or `ms` passed on the messenger's clock. */
export async function within(
  m: Messenger,
  work: ReadonlyArray<Promise<unknown> | undefined>,
  ms: number,
): Promise<void> {
  const pending = work.filter((w): w is Promise<unknown> => w !== undefined);
  if (pending.length === 0 || m.isClosed) return;
  let timer: Scheduled | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = m.timers.schedule(ms, resolve);
  });
  await Promise.race([Promise.allSettled(pending), bound]);
  m.timers.cancel(timer);
}
