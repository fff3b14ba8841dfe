/**
 * @module client/observe
 * Observing a resource (RFC 7641): a GET with Observe 0, then every notification whose sequence
 * number is fresh (§3.4), as an async iterable. A notification that is the first block of a
 * larger representation is completed with plain GETs (RFC 7959 §2.6). If no notification comes
 * within Max-Age (plus a margin) the client registers again with the same token (§3.3.1).
 * Leaving the loop, `cancel()` or the signal deregisters with a GET carrying Observe 1 (§3.6);
 * a notification that still arrives finds no token and is rejected (RST for a CON). A stage
 * above the core's exchanger: the registration is one `stream` (client/exchanger), and a layer
 * around the exchanger sees the re-registrations and the deregistration too. Through a forward
 * proxy (`proxy`) the registration carries the URI in Proxy-Uri, and the proxy observes for the
 * client (RFC 7641 §5).
 */
import { decodeBlock } from '../block/index.js';
import { CoapAbortError, CoapResetError, CoapTimeoutError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { encodeUint, findOption } from '../options/values.js';
import type { Address } from '../transport/types.js';
import type { CoapUri } from '../uri/index.js';
import type { Scheduled } from '../util/timer-queue.js';
import { transfer } from './blockwise.js';
import { bodyAndOptions, type RequestOptions, toUri } from './build.js';
import type { ClientCore } from './core.js';
import type { ResponseStream } from './exchanger.js';
import { Freshness } from './freshness.js';
import { AsyncQueue } from './queue.js';
import { CoapResponse } from './response.js';
import { unicastTarget } from './unicast-target.js';

/** Re-register this long after Max-Age ran out without a notification (RFC 7641 §3.3.1). */
const REREGISTER_MARGIN_MS = 5_000;

/** Options of `observe()`. */
export interface ObserveRequestOptions extends RequestOptions {
  /** CON (default) or NON registration. */
  confirmable?: boolean;
  /** Observe through this forward proxy, `coap://host[:port]`; `false`: directly, even when the client has a default proxy. */
  proxy?: string | CoapUri | false;
}

/**
 * A running observation: iterate it for the registration response and every notification.
 *
 * @example
 * const observation = client.observe('coap://127.0.0.1/temperature');
 * for await (const notification of observation) {
 *   console.log(notification.text());
 *   if (Number(notification.text()) > 30) break; // leaving the loop deregisters
 * }
 */
export class Observation implements AsyncIterable<CoapResponse> {
  /** @internal */ readonly queue = new AsyncQueue<CoapResponse>();
  /** @internal */ stop: () => Promise<void> = async () => {};

  /** Ends the observation and deregisters (RFC 7641 §3.6). */
  cancel(): Promise<void> {
    return this.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<CoapResponse> {
    return this.queue.iterator(() => {
      void this.stop();
    });
  }
}

/** @internal */
export function startObservation(core: ClientCore, o: ObserveRequestOptions): Observation {
  const obs = new Observation();
  // Cancelled before the registration went out (during name resolution): end, send nothing.
  obs.stop = async () => obs.queue.end();
  run(core, o, obs).catch((err: Error) => obs.queue.end(err));
  return obs;
}

async function run(core: ClientCore, o: ObserveRequestOptions, obs: Observation): Promise<void> {
  const m = core.messenger;
  const uri = toUri(o.uri);
  const { payload, options } = bodyAndOptions(o);
  const to = await unicastTarget(
    core,
    uri,
    o.proxy,
    (address) => `${address} is a group: observe it with group({ observe: true })`,
  );
  if (obs.queue.isEnded || core.isClosed() || o.signal?.aborted) return obs.queue.end();
  const { dest, proxy } = to;
  const address = dest.address;
  options.push(...to.options);
  const base = options.filter((x) => x.number !== Opt.Observe);
  const withObserve = (value: number) =>
    [...base, { number: Opt.Observe, value: encodeUint(value) }].sort((a, b) => a.number - b.number);
  const register = withObserve(0);
  const confirmable = o.confirmable !== false;
  const fresh = new Freshness();
  let timer: Scheduled | undefined;
  let ended = false;
  let registered = false;
  const noAnswer = () =>
    new CoapTimeoutError(`no answer from ${address}:${uri.port} to the Observe registration`);
  const complete = async (msg: CoapMessage, remote: Address): Promise<void> => {
    let res = new CoapResponse(msg, remote);
    const b2 = findOption(msg.options, Opt.Block2);
    if (b2 !== undefined && decodeBlock(b2.value).more) {
      // RFC 7959 §2.6: the rest of a notification's representation comes by plain GET.
      res = await transfer(
        core.exchanger,
        core.runtime,
        { dest, proxy, kind: 'unicast', confirmable: true, signal: o.signal, unprotected: o.unprotected },
        { code: 1, payload: Buffer.alloc(0), options: base },
      );
      res = new CoapResponse(
        { ...msg, payload: res.payload, options: msg.options.filter((x) => x.number !== Opt.Block2) },
        remote,
      );
    }
    obs.queue.push(res);
  };
  const rearm = (maxAge: number) => {
    if (ended) return;
    m.timers.cancel(timer);
    timer = m.timers.schedule(maxAge * 1000 + REREGISTER_MARGIN_MS, () => {
      // RFC 7641 §3.3.1: a re-registration nobody acknowledges means the server is gone; one
      // that cannot be sent (a layer refused it) ends the observation, unsent.
      try {
        stream?.resend({ code: 1, options: register, payload }, dest, confirmable, (err) =>
          end(
            err instanceof CoapTimeoutError
              ? new CoapTimeoutError(`${address}:${uri.port} stopped answering the observation`)
              : err,
          ),
        );
      } catch (err) {
        end(err as Error);
      }
    });
  };
  const take = (msg: CoapMessage, remote: Address) => {
    if (ended) return;
    const seq = findOption(msg.options, Opt.Observe);
    const final = seq === undefined || msg.code >> 5 !== 2;
    if (!final && !fresh.accept(new CoapResponse(msg, remote).observe ?? 0, m.runtime.now())) return;
    registered = registered || !final;
    complete(msg, remote).then(
      () => {
        // A response without Observe (or an error) ends the observation (RFC 7641 §3.2, §4.2).
        if (final) end();
        else rearm(new CoapResponse(msg, remote).maxAge);
      },
      (err: Error) => end(err),
    );
  };
  let stream: ResponseStream | undefined;
  /** Ends the observation; resolves once its deregistration (if any) has left. */
  const end = (err?: Error): Promise<void> => {
    if (ended) return Promise.resolve();
    ended = true;
    m.timers.cancel(timer);
    o.signal?.removeEventListener('abort', onAbort);
    let leaving = Promise.resolve();
    // Also when the client closes (before its sockets do): the server should not keep
    // notifying an endpoint that is gone.
    if (stream !== undefined && registered && !(err instanceof CoapResetError)) {
      // RFC 7641 §3.6: deregister with a GET carrying Observe 1 and the same token; its answer
      // is not awaited (a later notification finds no token and is rejected anyway).
      leaving = stream.sendLast({ code: 1, options: withObserve(1), payload }, dest);
    }
    stream?.close(true);
    // Aborting ends the iteration quietly, as for group requests (docs/decisions.md).
    obs.queue.end(bySignal(err) ? undefined : err);
    return leaving;
  };
  const bySignal = (err: Error | undefined) =>
    err instanceof CoapAbortError ||
    (err instanceof CoapTimeoutError && o.signal?.aborted === true && err.cause === o.signal.reason);
  const onAbort = () => void end();
  obs.stop = () => end();
  try {
    // A layer may refuse the registration here: nothing is sent, and the observation ends.
    stream = core.exchanger.stream(
      {
        dest,
        parts: { code: 1, options: register, payload },
        kind: 'observe',
        confirmable,
        unprotected: o.unprotected,
        proxy,
      },
      {
        response: take,
        error: (err) => end(err instanceof CoapTimeoutError ? noAnswer() : err),
        end: (err) => end(err),
      },
    );
  } catch (err) {
    end(err as Error);
    return;
  }
  // A registration must be answered in time (RFC 7252 §4.8.2): a lost NON, or an empty ACK
  // never followed by the response, ends the observation instead of waiting forever. The first
  // response replaces this timer with the Max-Age one.
  const firstWait = (confirmable ? m.times.exchangeLifetime : m.times.maxTransmitWait) * 1000;
  timer = m.timers.schedule(firstWait, () => end(noAnswer()));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) end();
}
