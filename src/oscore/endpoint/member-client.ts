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

import type { CoapMessage } from '../../message/types.js';
import type { ProxyOptionNumbers } from '../../options/proxy-numbers.js';
import type { GroupRequestBinding } from '../group/mode.js';
import { protectGroupRequest } from '../group/protect.js';
import { unprotectGroupResponse } from '../group/unprotect.js';
import type { MessageParts, SecuredKind } from './client-protection.js';
import type { MemberAt } from './keyring.js';
import { OneServerRequest, type Verified } from './one-server.js';
import { asMessage, partsOf } from './parts.js';

/** True when the group's Security Context sets the pairwise mode's algorithms (draft §2.1). */
export function usesPairwise(member: MemberAt): boolean {
  const c = member.group.context.common;
  return c.aead !== undefined && c.pairwiseKeyAgreementAlgorithm !== undefined;
}

/** One unicast request to a group member; answers are handled as `OneServerRequest` says. */
export class MemberRequest extends OneServerRequest {
  readonly parts: MessageParts;
  readonly #member: MemberAt;
  readonly #binding: GroupRequestBinding;
  readonly #numbers: ProxyOptionNumbers | undefined;

  /**
   * The member's Recipient Context must exist (`OscoreKeyring.ensureRecipient`). `numbers`: the
   * group proxy options, kept Outer (default 65026, 65016, 65048).
   */
  constructor(plain: MessageParts, member: MemberAt, kind: SecuredKind, numbers?: ProxyOptionNumbers) {
    super(plain, kind);
    const pairwise = usesPairwise(member);
    const { message, binding } = protectGroupRequest(asMessage(plain), member.group.context, {
      mode: pairwise ? 'pairwise' : 'group',
      recipientId: member.kid,
      ...(numbers !== undefined ? { proxyOptions: numbers } : {}),
    });
    this.parts = partsOf(message);
    this.#member = member;
    this.#binding = binding;
    this.#numbers = numbers;
  }

  /** The binding names the member: a response from any other fails (draft §7.4 Step 2). */
  protected verify(msg: CoapMessage): Verified {
    return unprotectGroupResponse(
      msg,
      this.#member.group.context,
      this.#binding,
      this.#numbers === undefined ? {} : { proxyOptions: this.#numbers },
    );
  }
}
