/**
 * @module oscore/endpoint/member-client
 * A unicast request to one member of a Group OSCORE group (draft-ietf-core-oscore-groupcomm §8):
 * protected in the pairwise mode when the group uses it (§8.3: keys only this client and that
 * member share), else in the group mode (§10 allows it where the pairwise mode is not set, with
 * the caveat of §14.6). Used for requests to a member's own address: the Echo follow-up of a
 * group request (§10: "MUST be a message sent unicast to that server"), block-wise
 * continuations, deregistering a group observation, and requests the application sends there.
 * The response must come from that member: the pairwise key, or the check of its 'kid' before
 * the signature, binds it (§8.5, §7.4).
 */
import type { MessageParts, SecuredKind, SecuredRequest } from '../../client/security.js';
import { type CoapMessage, type CoapOption, MessageType } from '../../message/types.js';
import type { Address } from '../../transport/types.js';
import type { GroupRequestBinding } from '../group/mode.js';
import { protectGroupRequest } from '../group/protect.js';
import { unprotectGroupResponse } from '../group/unprotect.js';
import { isOscoreMessage } from '../unprotect.js';
import { OscoreExchangeError, unprotectedAnswer } from './errors.js';
import type { MemberAt } from './keyring.js';
import {
  asMessage,
  echoRetry,
  hasOuterBlock,
  observeFromPartialIv,
  partsOf,
  reportRejected,
} from './parts.js';

/** True when the group's Security Context sets the pairwise mode's algorithms (draft §2.1). */
export function usesPairwise(member: MemberAt): boolean {
  const c = member.group.context.common;
  return c.aead !== undefined && c.pairwiseKeyAgreementAlgorithm !== undefined;
}

/**
 * One unicast request to a group member. As with RFC 8613 requests, a piggy-backed answer that
 * fails verification ends the exchange with its error; a separate one is discarded.
 */
export class MemberRequest implements SecuredRequest {
  readonly parts: MessageParts;
  readonly #plain: MessageParts;
  readonly #member: MemberAt;
  readonly #binding: GroupRequestBinding;
  readonly #kind: SecuredKind;
  #accepted = false;

  /** The member's Recipient Context must exist (`OscoreKeyring.ensureRecipient`). */
  constructor(plain: MessageParts, member: MemberAt, kind: SecuredKind) {
    const pairwise = usesPairwise(member);
    const { message, binding } = protectGroupRequest(asMessage(plain), member.group.context, {
      mode: pairwise ? 'pairwise' : 'group',
      recipientId: member.kid,
    });
    this.parts = partsOf(message);
    this.#plain = plain;
    this.#member = member;
    this.#binding = binding;
    this.#kind = kind;
  }

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
          `${remote.address}:${remote.port} sent a protected response with outer Block options (not supported)`,
        );
      }
      // The binding names the member: a response from any other fails (draft §7.4 Step 2).
      const r = unprotectGroupResponse(msg, this.#member.group.context, this.#binding);
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
