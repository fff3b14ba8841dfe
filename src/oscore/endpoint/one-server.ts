/**
 * @module oscore/endpoint/one-server
 * What a protected request to one server does with what comes back, whichever context protects
 * it (an RFC 8613 context, or a group member's, draft-ietf-core-oscore-groupcomm §8): an
 * unprotected answer is reported, and ends the exchange when nothing else will come (a
 * piggy-backed answer, or the first answer to an Observe registration; RFC 8613 §8.4); an answer
 * that fails verification ends a piggy-backed exchange with its error and is otherwise
 * discarded, so the genuine one can still arrive; a verified 4.01 with Echo asks for the request
 * again (RFC 9175 §2.4).
 */

import { type CoapMessage, type CoapOption, MessageType } from '../../message/types.js';
import type { Address } from '../../transport/types.js';
import { isOscoreMessage } from '../unprotect.js';
import type { MessageParts, SecuredKind, SecuredRequest } from './client-protection.js';
import { OscoreExchangeError, unprotectedAnswer } from './errors.js';
import { echoRetry, hasOuterBlock, observeFromPartialIv, reportRejected } from './parts.js';

/** A verified answer: the original response and the Partial IV it came with, if any. */
export interface Verified {
  readonly response: CoapMessage;
  readonly partialIv: Buffer | undefined;
}

export abstract class OneServerRequest implements SecuredRequest {
  abstract readonly parts: MessageParts;
  readonly #plain: MessageParts;
  readonly #kind: SecuredKind;
  #accepted = false;

  protected constructor(plain: MessageParts, kind: SecuredKind) {
    this.#plain = plain;
    this.#kind = kind;
  }

  /** Verifies an answer with this request's context and binding. @throws OscoreError */
  protected abstract verify(msg: CoapMessage): Verified;

  open(msg: CoapMessage, remote: Address): CoapMessage | undefined {
    const final = msg.type === MessageType.ACK || (this.#kind === 'observe' && !this.#accepted);
    if (!isOscoreMessage(msg)) {
      reportRejected('client', remote, 'ERR_OSCORE_UNPROTECTED');
      if (final) throw unprotectedAnswer(msg, remote);
      return undefined;
    }
    try {
      if (hasOuterBlock(msg)) {
        throw new OscoreExchangeError(
          'ERR_OSCORE_OUTER_BLOCKWISE',
          `${remote.address}:${remote.port} sent a protected response with Outer Block options that were not joined`,
        );
      }
      const r = this.verify(msg);
      this.#accepted = true;
      return observeFromPartialIv(r.response, r.partialIv);
    } catch (err) {
      reportRejected('client', remote, err);
      if (msg.type === MessageType.ACK) throw err;
      return undefined;
    }
  }

  retry(opened: {
    readonly code: number;
    readonly options: readonly CoapOption[];
  }): MessageParts | undefined {
    return echoRetry(this.#plain, opened);
  }
}
