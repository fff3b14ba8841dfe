/**
 * @module messenger/subscribers
 * Who receives what arrives on one endpoint. Requests have exactly one owner (a server, or a
 * proxy that is also a server): a second owner is refused rather than silently replacing the
 * first. Responses go to any number of listeners (every client sharing the endpoint, RFC 7252
 * §5.3.2 matching by token): the first listener that claims a response gets it.
 */
import { CoapError } from '../errors.js';
import type { CoapMessage } from '../message/types.js';
import type { Address, LocalSocket } from '../transport/types.js';
import type { ServerExchange } from './server-exchange.js';

/** Takes each new request (not duplicates). */
export type RequestHandler = (exchange: ServerExchange) => void;

/** Offered each response; returns true when it was waiting for that response (its token). */
export type ResponseListener = (message: CoapMessage, remote: Address, local: LocalSocket) => boolean;

export class Subscribers {
  #requests: RequestHandler | undefined;
  /** Replaced, never mutated, so a delivery in progress iterates a stable array. */
  #listeners: readonly ResponseListener[] = [];

  /**
   * Makes `handler` the owner of requests; returns a function that gives the ownership up.
   * @throws CoapError `ERR_COAP_ENDPOINT_TAKEN` when another owner holds it.
   */
  setRequestHandler(handler: RequestHandler): () => void {
    if (this.#requests !== undefined && this.#requests !== handler) {
      throw new CoapError(
        'ERR_COAP_ENDPOINT_TAKEN',
        'this endpoint already has a server taking its requests; give each server its own endpoint',
      );
    }
    this.#requests = handler;
    return () => {
      if (this.#requests === handler) this.#requests = undefined;
    };
  }

  /** Adds a response listener; returns a function that removes it. */
  addResponseListener(listener: ResponseListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Hands a request to its owner; without one it is rejected (RST for unicast, RFC 7252 §4.2). */
  request(exchange: ServerExchange): void {
    if (this.#requests === undefined) exchange.reject();
    else this.#requests(exchange);
  }

  /** Offers a response to each listener in turn; true when one claimed it. */
  response(message: CoapMessage, remote: Address, local: LocalSocket): boolean {
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) if (ls[i]!(message, remote, local)) return true;
    return false;
  }
}
