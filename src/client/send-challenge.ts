/**
 * @module client/send-challenge
 * A protected request sent with `send()` must still hear a freshness challenge. A server that
 * cannot yet tell the request is fresh (it restarted: RFC 8613 Appendix B.1.2) answers with a
 * protected 4.01 carrying Echo and delivers nothing until the request comes again with that
 * value (RFC 9175 §2.4); to a request that disclaimed 4.xx it sends nothing at all (RFC 7967).
 * So a protected send disclaims only 2.xx and 5.xx (No-Response 18), and its token is listened on
 * for a short while: a verified challenge is answered once, by sending the request again with the
 * Echo value and No-Response 26; any other answer is dropped. At most MAX_LISTENING sends per
 * client listen at once; beyond that a send is protected as before and nobody listens.
 */
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, withOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { CoapClient, TokenOwner } from './client.js';
import type { MessageParts } from './security.js';

/** Sends listening for a challenge at once, per client. */
const MAX_LISTENING = 1024;
const listening = new WeakMap<CoapClient, number>();

/** RFC 7967 §2.1: bit (n-1) disclaims class n; 26 = 2.xx, 4.xx and 5.xx, 18 = all but 4.xx. */
const ALL_CLASSES = 26;
const ALL_BUT_4XX = 18;

function withNoResponse(parts: MessageParts, value: number): MessageParts {
  return { ...parts, options: withOption(parts.options, Opt.NoResponse, encodeUint(value)) };
}

/**
 * Protects `parts` (a send-only request) for `dest` and listens for a challenge. Returns the
 * parts to put on the wire and the token to use, or undefined when no context protects `dest`.
 */
export function protectSend(
  client: CoapClient,
  dest: Address,
  parts: MessageParts,
): { wire: MessageParts; token: Buffer } | undefined {
  const sec = client.security;
  if (sec === undefined) return undefined;
  const m = client.messenger;
  const count = listening.get(client) ?? 0;
  if (count >= MAX_LISTENING) {
    const secured = sec.protect(parts, dest, 'unicast');
    return secured === undefined ? undefined : { wire: secured.parts, token: m.runtime.randomBytes(4) };
  }
  const secured = sec.protect(withNoResponse(parts, ALL_BUT_4XX), dest, 'unicast');
  if (secured === undefined) return undefined;
  let done = false;
  let timer: Scheduled | undefined;
  const stop = () => {
    if (done) return;
    done = true;
    m.timers.cancel(timer);
    client.tokens.release(token, false);
    listening.set(client, (listening.get(client) ?? 1) - 1);
  };
  const owner: TokenOwner = {
    deliver: (msg: CoapMessage, remote: Address) => {
      if (remote.address !== dest.address || remote.port !== dest.port) return false;
      let opened: CoapMessage | undefined;
      try {
        opened = secured.open(msg, remote);
      } catch {
        opened = undefined;
      }
      if (opened === undefined) return true;
      stop();
      const again = secured.retry?.(opened);
      if (again !== undefined) resend(client, dest, withNoResponse(again, ALL_CLASSES));
      return true;
    },
    abort: () => stop(),
  };
  let token: Buffer;
  try {
    token = client.tokens.allocate(4, owner);
  } catch {
    return { wire: secured.parts, token: m.runtime.randomBytes(4) };
  }
  listening.set(client, count + 1);
  // A challenge comes at once (unicast, no Leisure): a couple of ACK timeouts is plenty.
  timer = m.timers.schedule(2 * m.params.ackTimeout * 1000, stop);
  return { wire: secured.parts, token };
}

/** The request again, with the Echo value; nobody listens to this one. */
function resend(client: CoapClient, dest: Address, parts: MessageParts): void {
  const m = client.messenger;
  try {
    const secured = client.security?.protect(parts, dest, 'unicast');
    if (secured === undefined) return;
    m.send({ type: MessageType.NON, token: m.runtime.randomBytes(4), ...secured.parts }, dest).cancel();
  } catch {
    // Closing, or no Sequence Number left: the request is lost, as a NON may be.
  }
}
