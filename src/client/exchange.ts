/**
 * @module client/exchange
 * One request and its one response (RFC 7252 §5): a CON retransmitted by the messenger until
 * ACK or RST, an empty ACK then a separate response (§5.2.2), or a NON with a wait of
 * MAX_TRANSMIT_WAIT. The response must come from the endpoint the request went to (§5.3.2).
 */
import { abortError, CoapError, CoapResetError, CoapTimeoutError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Address } from '../transport/types.js';
import type { Scheduled } from '../util/timer-queue.js';
import type { CoapClient, TokenOwner, UnicastRequestOptions } from './client.js';
import { joinOuter, outerBlock2 } from './outer-block.js';
import { CoapResponse } from './response.js';
import type { SecuredRequest } from './security.js';
import { protectSend } from './send-challenge.js';

/**
 * One exchange, protected when the client's security hook has a context for `dest`
 * (RFC 8613 §8.1). A verified 4.01 that carries Echo is retried once with the Echo value
 * (RFC 9175 §2.4, RFC 8613 Appendix B.1.2).
 */
export async function exchangeOnce(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Pick<CoapMessage, 'code' | 'payload' | 'options'>,
): Promise<CoapResponse> {
  // Unprotected only by an explicit choice: `unprotected`, or the security layer's (client/security).
  const protect = (p: typeof parts) =>
    o.protectWith?.(p) ?? (o.unprotected ? undefined : client.security?.protect(p, dest, 'unicast'));
  const secured = protect(parts);
  if (secured === undefined)
    return new CoapResponse(await exchangeRaw(client, o, dest, parts, undefined), dest);
  const res = await exchangeSecured(client, o, dest, secured);
  const again = secured.retry?.(res);
  if (again === undefined) return new CoapResponse(res, dest);
  const second = protect(again);
  if (second === undefined)
    return new CoapResponse(await exchangeRaw(client, o, dest, again, undefined), dest);
  return new CoapResponse(await exchangeSecured(client, o, dest, second), dest);
}

/**
 * One protected exchange. A response an intermediary cut into Outer Block2 fragments is joined
 * before it is opened (RFC 8613 §4.1.3.4.2).
 */
async function exchangeSecured(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  secured: SecuredRequest,
): Promise<CoapMessage> {
  const msg = await exchangeRaw(client, o, dest, secured.parts, secured);
  const block = outerBlock2(msg);
  if (block === undefined) return msg;
  const whole = await joinOuter(secured.parts, msg, block, o.maxBodySize, (p) =>
    exchangeRaw(client, o, dest, p, undefined),
  );
  // An ACK: a whole that fails verification throws, since nothing else will come.
  const opened = secured.open(whole, dest);
  if (opened === undefined)
    throw new CoapError('ERR_OSCORE_DECRYPT', 'the joined protected response did not verify');
  return opened;
}

/**
 * One exchange; with `secured`, the response is opened, except a fragment with Outer Block2,
 * which is returned as it came (still protected) for `exchangeSecured` to join.
 */
function exchangeRaw(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Pick<CoapMessage, 'code' | 'payload' | 'options'>,
  secured: SecuredRequest | undefined,
): Promise<CoapMessage> {
  const m = client.messenger;
  const confirmable = o.confirmable ?? true;
  // A signal that fired while the name was resolved or a slot awaited: nothing is sent.
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
  return new Promise<CoapMessage>((resolve, reject) => {
    let timer: Scheduled | undefined;
    let done = false;
    const owner: TokenOwner = {
      deliver: (msg, remote) => {
        if (remote.address !== dest.address || remote.port !== dest.port) return false;
        let res = msg;
        if (secured !== undefined) {
          // RFC 8613 §8.4: a response that fails verification is not used.
          try {
            const opened = outerBlock2(msg) !== undefined ? msg : secured.open(msg, remote);
            if (opened === undefined) return true;
            res = opened;
          } catch (err) {
            fail(err as Error);
            return true;
          }
        }
        finish();
        resolve(res);
        return true;
      },
      abort: (err) => fail(err),
    };
    const token = client.tokens.allocate(4, owner);
    const finish = () => {
      if (done) return;
      done = true;
      client.tokens.release(token, false);
      outgoing.cancel();
      m.timers.cancel(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      if (done) return;
      finish();
      reject(err);
    };
    const onAbort = () => fail(abortError(o.signal));
    const wait = (ms: number, what: string) => {
      m.timers.cancel(timer);
      timer = m.timers.schedule(o.timeout !== undefined ? Math.min(ms, o.timeout) : ms, () =>
        fail(new CoapTimeoutError(`no response from ${dest.address}:${dest.port} ${what}`)),
      );
    };
    const outgoing = m.send(
      { type: confirmable ? MessageType.CON : MessageType.NON, token, ...parts },
      dest,
      undefined,
      {
        onAck: (ack) => {
          // An empty ACK means a separate response follows (RFC 7252 §5.2.2).
          if (ack.code === 0) wait(m.times.exchangeLifetime * 1000, 'after its empty ACK');
        },
        onReset: () => fail(new CoapResetError(`${dest.address}:${dest.port} answered with Reset`)),
        onTimeout: () =>
          fail(
            new CoapTimeoutError(
              `no ACK from ${dest.address}:${dest.port} after ${m.params.maxRetransmit} retransmissions`,
            ),
          ),
        onError: (err) => fail(err),
      },
    );
    if (!confirmable) wait(m.times.maxTransmitWait * 1000, 'to the NON request');
    else if (o.timeout !== undefined) wait(o.timeout, `within ${o.timeout} ms`);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends a request that wants no response at all (RFC 7967 §2.1, No-Response 26): a NON settles
 * once handed to the socket, a CON once acknowledged. Nothing waits for a response.
 */
export function sendOnly(
  client: CoapClient,
  o: UnicastRequestOptions,
  dest: Address,
  parts: Pick<CoapMessage, 'code' | 'payload' | 'options'>,
): Promise<void> {
  const m = client.messenger;
  const confirmable = o.confirmable ?? false;
  // Protected: listened on for a freshness challenge (send-challenge); else a token nobody
  // waits for, so a response that still comes is rejected (RST for a CON).
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
  const secured = o.unprotected ? undefined : protectSend(client, dest, parts);
  const wire = secured?.wire ?? parts;
  return new Promise<void>((resolve, reject) => {
    const token = secured?.token ?? m.runtime.randomBytes(4);
    const onAbort = () => {
      outgoing.cancel();
      reject(abortError(o.signal));
    };
    const settle = (err?: Error) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const outgoing = m.send(
      { type: confirmable ? MessageType.CON : MessageType.NON, token, ...wire },
      dest,
      undefined,
      confirmable
        ? {
            onAck: () => settle(),
            onReset: () => settle(new CoapResetError(`${dest.address}:${dest.port} answered with Reset`)),
            onTimeout: () => settle(new CoapTimeoutError(`no ACK from ${dest.address}:${dest.port}`)),
            onError: (err) => settle(err),
          }
        : { onError: (err) => settle(err) },
    );
    if (!confirmable) {
      // The send callback has run once a microtask passes without an error; forget the NON.
      setImmediate(() => {
        outgoing.cancel();
        settle();
      });
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
