/**
 * @module client/group-follow-up
 * The unicast follow-ups of one protected group request. A member that cannot yet tell the
 * request is fresh (its replay window for this client is not valid, e.g. after it restarted)
 * answers with a protected 4.01 carrying Echo; the client then sends that member, and only it,
 * the request again with the Echo value, by unicast (Group OSCORE draft §10, RFC 9175 §2.4).
 * The follow-up carries the group request's token, so its response (and, for an observation,
 * every later notification) joins the same collection; it is verified against the follow-up's
 * own protection. One follow-up per member at most: a second challenge is reported as it is.
 */

import { MessageType } from '../message/types.js';
import type { Outgoing } from '../messenger/messenger.js';
import type { Address } from '../transport/types.js';
import type { CoapClient } from './client.js';
import type { MessageParts, SecuredRequest } from './security.js';

const keyOf = (a: Address): string => `${a.address}|${a.port}`;

export class FollowUps {
  readonly #client: CoapClient;
  readonly #secured: SecuredRequest;
  readonly #observe: boolean;
  readonly #byMember = new Map<string, SecuredRequest>();
  readonly #outgoing: Outgoing[] = [];

  constructor(client: CoapClient, secured: SecuredRequest, observe: boolean) {
    this.#client = client;
    this.#secured = secured;
    this.#observe = observe;
  }

  /** The protection of the follow-up already sent to `remote`, whose responses it opens. */
  of(remote: Address): SecuredRequest | undefined {
    return this.#byMember.size === 0 ? undefined : this.#byMember.get(keyOf(remote));
  }

  /**
   * Sends `parts` to `remote` alone, protected for the member its verified answer proved it is,
   * with the group request's token. Returns false when nothing was sent (one follow-up already
   * went, or it could not be protected or sent: the challenge is then reported as it is).
   * Never throws: it runs on the receive path.
   */
  send(parts: MessageParts, remote: Address, token: Buffer): boolean {
    const key = keyOf(remote);
    if (this.#byMember.has(key)) return false;
    const dest: Address = { address: remote.address, port: remote.port };
    try {
      const secured = this.#secured.forResponder?.(parts, dest, this.#observe ? 'observe' : 'unicast');
      if (secured === undefined) return false;
      this.#outgoing.push(
        this.#client.messenger.send({ type: MessageType.NON, token, ...secured.parts }, dest, undefined, {}),
      );
      this.#byMember.set(key, secured);
      return true;
    } catch {
      // E.g. no Sender Sequence Number left, or the client is closing.
      return false;
    }
  }

  /** Forgets the follow-ups when the group request ends. */
  cancel(): void {
    for (const o of this.#outgoing) o.cancel();
    this.#outgoing.length = 0;
  }
}
