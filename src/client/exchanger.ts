/**
 * @module client/exchanger
 * The seam between the client's stages and the message layer. An exchanger sends the parts of a
 * request to one destination and gives back its one response (`request`, RFC 7252 §5), nothing
 * (`send`: a request that wants no response, RFC 7967), or a stream of responses (`stream`: a
 * group request, RFC 7390 §2.5; an observation, RFC 7641 §3).
 *
 * The plain exchanger (client/plain-exchanger) is usable raw: it follows no Block2 (RFC 7959
 * §2.4) and retries nothing, so a proxy can forward exactly what it was given. Block-wise
 * transfer, group collection and observation are stages above it (client/blockwise,
 * client/group, client/observe). A layer, such as message protection, wraps an exchanger in
 * another that keeps this contract (`ExchangerLayer`); the stages cannot tell the difference,
 * so a second mechanism is one more wrapper, not a change to the client.
 *
 * The contract every exchanger keeps:
 * - `request` resolves with the first response from `dest` on the request's token that the
 *   `screen` accepts, as it came (a Block2 M=1 response is returned as it is). It rejects with
 *   `CoapTimeoutError` (no response in time), `CoapResetError`, the abort of `signal`, the
 *   transport's error, the error a screen or a layer throws (nothing was sent when a layer
 *   refuses the request), or `CoapClosedError` when the client closes.
 * - `send` settles once a NON was handed to the socket or a CON was acknowledged. Nobody waits
 *   for a response, unless a layer listens (`SendListener`) for an answer it asked for itself.
 * - `stream` sends at once and hands every response on its token to the sink (from `dest` only,
 *   unless `kind` is `'group'`: from any source, RFC 7252 §8.2) until `close`. A layer that
 *   refuses the request throws from `stream` itself, and nothing was sent.
 * - A wrapper changes the parts on the way down and the responses on the way up; it leaves a
 *   request marked `unprotected` as it is, and it composes screens: it applies the caller's
 *   screen to the responses it hands up.
 * - Through a forward proxy (`proxy`), datagrams go to the proxy and responses come from it,
 *   while `dest` stays the origin server or group, by which a layer chooses its protection
 *   (RFC 7252 §5.7.2, RFC 8613 §4.1.3.3). A group request's stream (groupcomm-proxy §5.1.1,
 *   §5.5.1) carries Multicast-Timeout; each response with Reply-From is handed up as coming from
 *   the member it names, and one without is the proxy's own answer (`StreamSink.proxyAnswer`).
 */
import type { TransmissionParameters } from '../constants.js';
import type { CoapMessage } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { LEFT_TO_UPPER_LAYERS, optionDefinition } from '../options/registry.js';
import type { Address } from '../transport/types.js';

/** The parts of a request (or of a response) a layer may change: code, options and payload. */
export type MessageParts = Pick<CoapMessage, 'code' | 'options' | 'payload'>;

/**
 * What a request is for: a unicast request (or a block of one), an Observe registration, or a
 * group request. It decides where responses may come from, and a layer may choose by it (for
 * example, which security context applies and whether an answer ends the exchange).
 */
export type ExchangeKind = 'unicast' | 'observe' | 'group';

/**
 * A look at each response before it counts. Returns the response to use, `undefined` to
 * discard it and keep waiting for another, or throws to end the exchange with that error.
 */
export type Screen = (msg: CoapMessage, remote: Address) => CoapMessage | undefined;

/** One request as the stages hand it to an exchanger. */
export interface ExchangeRequest {
  readonly dest: Address;
  readonly parts: MessageParts;
  readonly kind: ExchangeKind;
  /** CON or NON (RFC 7252 §4.2, §4.3). */
  readonly confirmable: boolean;
  /** `request` only: overall limit in ms; default the RFC 7252 §4.8.2 limits of the exchange. */
  readonly timeout?: number | undefined;
  /** `request` and `send`: aborting ends the exchange (nothing is sent if it fired already). */
  readonly signal?: AbortSignal | undefined;
  /** Largest body a layer may reassemble for this exchange, bytes; default 16 MiB. */
  readonly maxBodySize?: number | undefined;
  /** Sent as it is: a layer that protects requests leaves this one alone (the caller's explicit choice). */
  readonly unprotected?: boolean | undefined;
  /** `request` only: see `Screen`. */
  readonly screen?: Screen | undefined;
  /**
   * The forward proxy the request goes through (RFC 7252 §5.7): the datagrams go to it and the
   * responses must come from it. The parts already name the target (Proxy-Uri, or the Uri-*
   * options of a reverse proxy); `dest` stays the origin server or group.
   */
  readonly proxy?: Address | undefined;
  /**
   * A group request through `proxy` (groupcomm-proxy §2): the Multicast-Timeout in seconds that
   * the bottom exchanger adds as an Outer option. Default: the group's Leisure (`leisure`, else
   * the default) plus 1 s, rounded up.
   */
  readonly multicastTimeout?: number | undefined;
  /**
   * Default Leisure, in seconds, of the destination group as a layer knows it (a secured group's,
   * groupcomm-bis §3.1.5); a layer that knows sets it on the request it hands down.
   */
  readonly leisure?: number | undefined;
}

/** Listens, for a while, on the token of a request that wants no response (`Exchanger.send`). */
export interface SendListener {
  /** How long the token is held, ms. */
  readonly ms: number;
  /** What `dest` sent on the token; returns true to stop listening. */
  response(msg: CoapMessage, remote: Address): boolean;
  /**
   * Called once when the listening ends: time, `response` returned true, the client closes, the
   * request was never sent, or no token could be held (then at once, and nobody listens).
   */
  stopped(): void;
}

/** Where a stream's responses and failures go. */
export interface StreamSink {
  /**
   * A response that carries the stream's token. Through a proxy, `remote` is the member that
   * the response's Reply-From names (groupcomm-proxy §5.5.1 step 3).
   */
  response(msg: CoapMessage, remote: Address): void;
  /**
   * A group request through a proxy: a response on the token without Reply-From, which the
   * proxy sent itself (groupcomm-proxy §5.2.1, §7.3): its refusal (4.00, 4.01, 5.01, 5.03, 5.05)
   * or a 2.03 that revalidates a stored set. Layers pass it up as it is: the proxy holds no end
   * to end keys. Without this method such a response goes to `response`, from the proxy.
   */
  proxyAnswer?(msg: CoapMessage, proxy: Address): void;
  /**
   * The stream's request failed: `CoapResetError`, `CoapTimeoutError` (a CON never
   * acknowledged), or the transport's error. A Reset from a member of a group is not reported
   * (RFC 7252 §8.1: a multicast request is never reset).
   */
  error(err: Error): void;
  /**
   * The client closes (`err` is a `CoapClosedError`): end, and return a promise of whatever must
   * still leave first (deregistrations); the client waits for it, bounded, before its sockets close.
   */
  end(err: Error): void | Promise<void>;
}

/** A running stream of responses (`Exchanger.stream`). */
export interface ResponseStream {
  readonly token: Buffer;
  /** Bytes of the request as sent (PROBING_RATE accounting, RFC 7252 §4.7). */
  readonly size: number;
  /**
   * Default Leisure, in seconds, of the destination group as a layer knows it (for example a
   * secured group's, groupcomm-bis §3.1.5); undefined: the plain default.
   */
  readonly leisure: number | undefined;
  /** A group request through a proxy: the Multicast-Timeout it carried, seconds. */
  readonly multicastTimeout?: number | undefined;
  /**
   * Sends another request on this token to `dest`, tracked as the first one (retransmitted when
   * CON): a re-registration (RFC 7641 §3.3.1), or a request to one member of a group. One to a
   * destination that already had one replaces it (its retransmission stops). Its failure goes
   * to `onError`, by default the sink's `error`. @throws when a layer cannot send it (nothing sent).
   */
  resend(parts: MessageParts, dest: Address, confirmable: boolean, onError?: (err: Error) => void): void;
  /**
   * Sends a last NON on this token to `dest`, once and untracked (a deregistration, RFC 7641
   * §3.6). Resolves once it left, or at once when it could not be sent; never rejects.
   */
  sendLast(parts: MessageParts, dest: Address): Promise<void>;
  /**
   * The exchanger for unicast requests to one responder of this stream (the rest of its
   * block-wise body, RFC 7959 §2.8): a layer that protected the stream protects those for that
   * responder, and refuses them when it cannot.
   */
  followUpExchanger(remote: Address): Exchanger;
  /** Stops the stream; `quarantine` keeps the token out of reuse (RFC 7390 §2.5). */
  close(quarantine: boolean): void;
}

/** Sends requests and hands back their responses; see the module comment for the contract. */
export interface Exchanger {
  /** One request, its one response (raw: no Block2 following, no retry). */
  request(x: ExchangeRequest): Promise<CoapMessage>;
  /** A request that wants no response (No-Response 26, RFC 7967 §2.1). */
  send(x: ExchangeRequest, listener?: SendListener): Promise<void>;
  /** A request whose responses come as a stream (group: from any source; observe: from `dest`). */
  stream(x: ExchangeRequest, sink: StreamSink): ResponseStream;
}

/** What a layer gets from the client it wraps. */
export interface LayerContext {
  readonly params: TransmissionParameters;
  /**
   * The numbers of the group proxy options this client uses (options/proxy-numbers): a
   * protection layer leaves them Outer (groupcomm-proxy §2, §3, §7.3: Class U).
   */
  readonly proxyOptions?: ProxyOptionNumbers;
}

/**
 * A layer around a client's exchanger (`ClientOptions.security`), e.g. message protection:
 * `wrap` returns the exchanger the client's stages use.
 */
export interface ExchangerLayer {
  /** Critical options the layer processes in responses; the client's messenger accepts them (RFC 7252 §5.4.1). */
  readonly criticalOptions?: readonly number[];
  wrap(inner: Exchanger, context: LayerContext): Exchanger;
}

/**
 * The messenger's `isRecognizedOption` for a client with a layer: the registry's options, plus
 * those the layer processes (RFC 7252 §5.4.1: critical options must be understood).
 */
export function recognizedWith(extra: readonly number[]): (n: number) => boolean {
  return (n) => extra.includes(n) || (optionDefinition(n) !== undefined && !LEFT_TO_UPPER_LAYERS.has(n));
}
