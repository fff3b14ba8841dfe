/**
 * @module oscore/endpoint/client
 * The client side of OSCORE as a layer around messages (`client/security` hook): unicast
 * requests and observations protected with the RFC 8613 context for their destination (§8.1),
 * responses and notifications verified (§8.4, §7.4.1), the Echo challenge answered once
 * (RFC 9175 §2.4, RFC 8613 Appendix B.1.2), and group requests protected in the Group OSCORE
 * group mode with each responder's answer verified on its own (draft-ietf-core-oscore-groupcomm
 * §7.1, §7.4). Failures are published on `coap:oscore:rejected`, without key material.
 */

import type { ClientSecurity, MessageParts, SecuredKind, SecuredRequest } from '../../client/security.js';
import { InvalidArgumentError } from '../../errors.js';
import type { CoapMessage, CoapOption } from '../../message/types.js';
import { Opt } from '../../options/registry.js';
import { findOption } from '../../options/values.js';
import type { Address } from '../../transport/types.js';
import type { RequestBinding } from '../binding.js';
import type { SecurityContext } from '../context.js';
import { protectGroupRequest } from '../group/protect.js';
import { unprotectGroupResponse } from '../group/unprotect.js';
import { decodeOscoreOption } from '../option.js';
import { protectRequest } from '../protect.js';
import { isOscoreMessage, unprotectResponse } from '../unprotect.js';
import { type GroupEntry, groupLeisure, type OscoreKeyring } from './keyring.js';
import { MemberRequest } from './member-client.js';
import { OneServerRequest, type Verified } from './one-server.js';
import {
  asMessage,
  echoRetry,
  hasOuterBlock,
  observeFromPartialIv,
  partsOf,
  reportRejected,
} from './parts.js';

/** A unicast request (or Observe registration) under an RFC 8613 context (§8.1, §8.4). */
class UnicastRequest extends OneServerRequest {
  readonly parts: MessageParts;
  readonly #ctx: SecurityContext;
  readonly #binding: RequestBinding;

  constructor(plain: MessageParts, ctx: SecurityContext, kind: SecuredKind) {
    super(plain, kind);
    const { message, binding } = protectRequest(asMessage(plain), ctx, {
      kidContext: ctx.common.idContext !== undefined,
    });
    this.parts = partsOf(message);
    this.#ctx = ctx;
    this.#binding = binding;
  }

  protected verify(msg: CoapMessage): Verified {
    return unprotectResponse(msg, this.#ctx, this.#binding);
  }
}

/**
 * A group request under a Group OSCORE context (group mode); each responder verified on its own.
 * A verified responder's address is remembered, so that what follows by unicast (an Echo
 * follow-up, block-wise continuations, deregistration) is protected for that member alone.
 */
class GroupRequest implements SecuredRequest {
  readonly parts: MessageParts;
  readonly leisure: number | undefined;
  readonly #plain: MessageParts;
  readonly #group: GroupEntry;
  readonly #keyring: OscoreKeyring;
  readonly #binding: ReturnType<typeof protectGroupRequest>['binding'];
  /** Sender IDs that verified answers proved, by source endpoint (one per responder). */
  readonly #responders = new Map<string, Buffer>();

  constructor(plain: MessageParts, group: GroupEntry, keyring: OscoreKeyring) {
    if (group.context.common.groupEncryption === undefined) {
      throw new InvalidArgumentError(
        'this group uses only the pairwise mode, which protects a request for one member: send it by unicast',
      );
    }
    const { message, binding } = protectGroupRequest(asMessage(plain), group.context, { mode: 'group' });
    this.parts = partsOf(message);
    this.leisure = groupLeisure(group);
    this.#plain = plain;
    this.#group = group;
    this.#keyring = keyring;
    this.#binding = binding;
  }

  forResponder(parts: MessageParts, remote: Address, kind: SecuredKind): SecuredRequest | undefined {
    const kid = this.#responders.get(`${remote.address}|${remote.port}`);
    if (kid === undefined) return undefined;
    const member = { group: this.#group, kid };
    this.#keyring.ensureRecipient(this.#group, kid);
    return new MemberRequest(parts, member, kind);
  }

  /** Draft §10: a member's verified 4.01 with Echo is answered by a unicast request to it. */
  retry(opened: {
    readonly code: number;
    readonly options: readonly CoapOption[];
  }): MessageParts | undefined {
    return echoRetry(this.#plain, opened);
  }

  open(msg: CoapMessage, remote: Address): CoapMessage | undefined {
    if (!isOscoreMessage(msg) || hasOuterBlock(msg)) {
      reportRejected('client', remote, 'ERR_OSCORE_UNPROTECTED');
      return undefined;
    }
    let kid: Buffer | undefined;
    let created = false;
    try {
      const value = findOption(msg.options, Opt.Oscore)!.value;
      kid = decodeOscoreOption(value, { allowGroupFlag: true }).kid;
      // A responder whose credential is known gets its Recipient Context now (draft §3.2).
      if (kid !== undefined) created = this.#keyring.ensureRecipient(this.#group, kid);
      const r = unprotectGroupResponse(msg, this.#group.context, this.#binding);
      this.#responders.set(`${remote.address}|${remote.port}`, r.serverId);
      return observeFromPartialIv(r.response, r.partialIv);
    } catch (err) {
      if (created && kid !== undefined) this.#group.context.removeRecipient(kid);
      reportRejected('client', remote, err);
      return undefined;
    }
  }
}

/**
 * The client hook of the OSCORE layer: give it to `CoapClient.create({ security })`.
 * Destinations without a context are left unprotected.
 *
 * @example
 * ```ts
 * const keyring = loadOscoreConfig('client.json');
 * const client = await CoapClient.create({ security: new OscoreClientSecurity(keyring) });
 * const res = await client.request('coap://127.0.0.2/light'); // protected, verified
 * ```
 */
export class OscoreClientSecurity implements ClientSecurity {
  readonly keyring: OscoreKeyring;
  /** OSCORE (RFC 8613 §2) is critical: the messenger must pass it up. */
  readonly criticalOptions: readonly number[] = [Opt.Oscore];

  constructor(keyring: OscoreKeyring) {
    this.keyring = keyring;
  }

  /**
   * @throws OscoreError `ERR_OSCORE_SEQUENCE_EXHAUSTED`; InvalidArgumentError for a request
   *   OSCORE cannot carry (e.g. one that already has an OSCORE option).
   */
  protect(parts: MessageParts, dest: Address, kind: SecuredKind): SecuredRequest | undefined {
    const keyring = this.keyring;
    if (kind === 'group') {
      const group = keyring.groupFor(dest);
      return group === undefined ? undefined : new GroupRequest(parts, group, keyring);
    }
    // A context bound to this peer, then a group member there (draft §8), then the fallback.
    const bound = keyring.oscoreFor(dest, { fallback: false });
    if (bound !== undefined) return new UnicastRequest(parts, bound, kind);
    const member = keyring.memberAt(dest);
    if (member !== undefined) {
      // Its Recipient Context is made from the roster's credential if this is the first contact.
      keyring.ensureRecipient(member.group, member.kid);
      if (member.group.context.recipient(member.kid) !== undefined)
        return new MemberRequest(parts, member, kind);
    }
    const ctx = keyring.oscoreFor(dest);
    return ctx === undefined ? undefined : new UnicastRequest(parts, ctx, kind);
  }
}
