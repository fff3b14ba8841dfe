/**
 * @module server/responder
 * How a site answers one request. The responder owns what applies below every site: suppression
 * of responses to multicast requests and the client's No-Response (RFC 7390 §2.7, RFC 7967 §2),
 * and Leisure before each response to a multicast request (RFC 7252 §8.2), drawn per group
 * (server/leisure). It sends one response, or several on the token (`more`: separate responses,
 * for a proxy relaying each group member's answer), and the notifications of an observation
 * (RFC 7641 §4.2). A layer around the site derives a responder with `through()`: same exchange,
 * the layer's request deciding No-Response, its default Leisure, and its `encode` applied to
 * each response at send time, after suppression and Leisure.
 */

import type { CoapMessage } from '../message/types.js';
import { MessageType } from '../message/types.js';
import type { Outgoing, OutgoingCallbacks } from '../messenger/outgoing.js';
import type { ResponseParts, ServerExchange } from '../messenger/server-exchange.js';
import { Opt } from '../options/registry.js';
import { uintOption } from '../options/values.js';
import type { Address, LocalSocket } from '../transport/types.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { LeisureScheduler } from './leisure.js';
import { DEFAULT_SUPPRESSION, isSuppressed, type SuppressionPolicy } from './suppression.js';

/** How one response is sent. */
export interface RespondOptions {
  /** What a multicast request's responses suppress (RFC 7390 §2.7); default `DEFAULT_SUPPRESSION`. */
  readonly policy?: SuppressionPolicy;
  /**
   * `false`: neither the policy nor No-Response holds this response back, because the layer that
   * sends it judged it already (its code may be an outer one that says nothing of its class).
   */
  readonly suppressible?: boolean;
  /** More responses follow on this token: this one goes as a separate response and the exchange stays open. */
  readonly more?: boolean;
  /** Called when the response goes out (after Leisure for a multicast request). */
  readonly onSend?: () => void;
}

/** What a layer changes in the responder it hands the site inside (`through()`). */
export interface ResponderStage {
  /** The request whose No-Response counts (RFC 7967), as the site inside sees it; default the outer one. */
  readonly request?: CoapMessage;
  /** Default Leisure for this request in seconds, when the application set none (groupcomm-bis §3.1.5). */
  readonly defaultLeisure?: number | undefined;
  /**
   * Turns each response (or notification) into what goes out, at send time. Throwing drops it
   * (a notification that cannot go out ends the observation).
   */
  encode?(parts: ResponseParts, notification: boolean): ResponseParts;
}

/** The answering side of one request. */
export interface Responder {
  readonly remote: Address;
  readonly local: LocalSocket;
  readonly multicast: boolean;
  readonly group: string | undefined;
  /** The request's token, which every response carries (RFC 7252 §5.3.1). */
  readonly token: Buffer;
  /**
   * Sends a response, unless suppressed (RFC 7390 §2.7, RFC 7967), after Leisure for a multicast
   * request (RFC 7252 §8.2). Ends the exchange unless `more` is set.
   */
  respond(parts: ResponseParts, options?: RespondOptions): void;
  /** Ends the exchange without a (further) response; a CON request gets its empty ACK. */
  finish(): void;
  /** The request was taken and its response will come later: a CON gets an empty ACK if it takes long (RFC 7252 §5.2.2). */
  armAck(): void;
  /** A responder for the site inside a layer (module comment). */
  through(stage: ResponderStage): Responder;
  /**
   * Sends a notification on the token now, outside the exchange (RFC 7641 §4.2): not suppressed,
   * no Leisure. Undefined when the layers would not let it go.
   */
  notify(parts: ResponseParts, confirmable: boolean, callbacks: OutgoingCallbacks): Outgoing | undefined;
  /** ms until the next notification to a multicast registration may go: the group's next Leisure period (groupcomm-bis §3.7). */
  notificationDelay(): number;
}

/** What the responders of one server share. */
export interface ResponderHost {
  readonly leisure: LeisureScheduler;
  readonly timers: TimerQueue;
  /** Sends a tracked message (the messenger's `send`). */
  send(
    message: Omit<CoapMessage, 'messageId'>,
    remote: Address,
    via: LocalSocket,
    callbacks: OutgoingCallbacks,
  ): Outgoing;
  /** Leisure in ms: the application's setting, else `requestDefaultMs`, else DEFAULT_LEISURE. */
  leisureMs(requestDefaultMs: number | undefined): number;
}

type Encode = (parts: ResponseParts, notification: boolean) => ResponseParts;

/** The responder of one exchange. */
export class ExchangeResponder implements Responder {
  readonly #ex: ServerExchange;
  readonly #host: ResponderHost;
  readonly #request: CoapMessage;
  readonly #defaultLeisureMs: number | undefined;
  readonly #encode: Encode | undefined;

  constructor(
    ex: ServerExchange,
    host: ResponderHost,
    request: CoapMessage = ex.request,
    defaultLeisureMs?: number,
    encode?: Encode,
  ) {
    this.#ex = ex;
    this.#host = host;
    this.#request = request;
    this.#defaultLeisureMs = defaultLeisureMs;
    this.#encode = encode;
  }

  get remote(): Address {
    return this.#ex.remote;
  }
  get local(): LocalSocket {
    return this.#ex.local;
  }
  get multicast(): boolean {
    return this.#ex.multicast;
  }
  get group(): string | undefined {
    return this.#ex.group;
  }
  get token(): Buffer {
    return this.#ex.request.token;
  }

  respond(parts: ResponseParts, options?: RespondOptions): void {
    const ex = this.#ex;
    const more = options?.more === true;
    if (options?.suppressible !== false) {
      const noResponse = uintOption(this.#request.options, Opt.NoResponse);
      const policy = options?.policy ?? DEFAULT_SUPPRESSION;
      if (isSuppressed(parts.code, parts.payload.length, ex.multicast, policy, noResponse)) {
        if (!more) ex.finish();
        return;
      }
    }
    if (!ex.multicast) return this.#send(parts, more, options?.onSend);
    const delay = this.#host.leisure.delay(ex.group ?? '', this.#host.leisureMs(this.#defaultLeisureMs));
    // A full Leisure backlog (a flood of multicast requests) drops the response.
    if (delay < 0) {
      if (!more) ex.finish();
      return;
    }
    if (delay === 0) this.#send(parts, more, options?.onSend);
    else this.#host.timers.schedule(delay, () => this.#send(parts, more, options?.onSend));
  }

  #send(parts: ResponseParts, more: boolean, onSend: (() => void) | undefined): void {
    onSend?.();
    let wire = parts;
    if (this.#encode !== undefined) {
      try {
        wire = this.#encode(parts, false);
      } catch {
        if (!more) this.#ex.finish();
        return;
      }
    }
    if (more) this.#ex.respondMore(wire);
    else this.#ex.respond(wire);
  }

  finish(): void {
    this.#ex.finish();
  }

  armAck(): void {
    this.#ex.armAck();
  }

  through(stage: ResponderStage): Responder {
    const outer = this.#encode;
    const inner = stage.encode === undefined ? undefined : stage.encode.bind(stage);
    const encode: Encode | undefined =
      inner === undefined ? outer : outer === undefined ? inner : (p, n) => outer(inner(p, n), n);
    const leisure = stage.defaultLeisure;
    return new ExchangeResponder(
      this.#ex,
      this.#host,
      stage.request ?? this.#request,
      leisure === undefined ? this.#defaultLeisureMs : leisure * 1000,
      encode,
    );
  }

  notify(parts: ResponseParts, confirmable: boolean, callbacks: OutgoingCallbacks): Outgoing | undefined {
    let wire = parts;
    if (this.#encode !== undefined) {
      try {
        wire = this.#encode(parts, true);
      } catch {
        return undefined;
      }
    }
    const type = confirmable ? MessageType.CON : MessageType.NON;
    const message = {
      type,
      token: this.token,
      code: wire.code,
      options: wire.options,
      payload: wire.payload,
    };
    return this.#host.send(message, this.remote, this.local, callbacks);
  }

  notificationDelay(): number {
    // Never dropped for a full backlog: each observer holds one waiting notification at most.
    return this.#host.leisure.delay(this.group ?? '', this.#host.leisureMs(this.#defaultLeisureMs), false);
  }
}
