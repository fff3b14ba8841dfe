/**
 * @module oscore/endpoint/client
 * The client side of OSCORE as a layer around the client's exchanger (client-exchanger): unicast
 * requests and observations protected with the RFC 8613 context for their destination (§8.1),
 * responses and notifications verified (§8.4, §7.4.1), the Echo challenge answered once
 * (RFC 9175 §2.4, RFC 8613 Appendix B.1.2), and group requests protected in the Group OSCORE
 * group mode with each responder's answer verified on its own (draft-ietf-core-oscore-groupcomm
 * §7.1, §7.4). Failures are published on `coap:oscore:rejected`, without key material. A
 * request no context protects is refused, not sent in the clear, unless plaintext to its
 * destination was chosen explicitly (`plaintext` option). The group proxy options stay Outer at
 * the numbers the client uses (draft-ietf-core-groupcomm-proxy §2, §3, §7.3: Class U), so a
 * proxy reads Multicast-Timeout and the client keeps each response's Reply-From.
 */

import type { Exchanger, ExchangerLayer, LayerContext } from '../../client/exchanger.js';
import { InvalidArgumentError } from '../../errors.js';
import type { CoapMessage, CoapOption } from '../../message/types.js';
import { type ProxyOptionNumbers, proxyOptionNumbers } from '../../options/proxy-numbers.js';
import { Opt } from '../../options/registry.js';
import { findOption } from '../../options/values.js';
import type { Address } from '../../transport/types.js';
import { ipFamily } from '../../util/ip.js';
import { peerKey } from '../../util/peer-key.js';
import type { RequestBinding } from '../binding.js';
import type { SecurityContext } from '../context.js';
import { protectGroupRequest } from '../group/protect.js';
import { unprotectGroupResponse } from '../group/unprotect.js';
import { decodeOscoreOption } from '../option.js';
import { protectRequest } from '../protect.js';
import { isOscoreMessage, unprotectResponse } from '../unprotect.js';
import { SecuredExchanger } from './client-exchanger.js';
import type { MessageParts, RequestProtection, SecuredKind, SecuredRequest } from './client-protection.js';
import { OscoreNoContextError } from './errors.js';
import { type Destination, type GroupEntry, groupLeisure, matches, type OscoreKeyring } from './keyring.js';
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
  readonly #numbers: ProxyOptionNumbers;

  constructor(plain: MessageParts, ctx: SecurityContext, kind: SecuredKind, numbers: ProxyOptionNumbers) {
    super(plain, kind);
    const { message, binding } = protectRequest(asMessage(plain), ctx, {
      kidContext: ctx.common.idContext !== undefined,
      proxyOptions: numbers,
    });
    this.parts = partsOf(message);
    this.#ctx = ctx;
    this.#binding = binding;
    this.#numbers = numbers;
  }

  protected verify(msg: CoapMessage): Verified {
    return unprotectResponse(msg, this.#ctx, this.#binding, { proxyOptions: this.#numbers });
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
  readonly #numbers: ProxyOptionNumbers;

  constructor(plain: MessageParts, group: GroupEntry, keyring: OscoreKeyring, numbers: ProxyOptionNumbers) {
    if (group.context.common.groupEncryption === undefined) {
      throw new InvalidArgumentError(
        'this group uses only the pairwise mode, which protects a request for one member: send it by unicast',
      );
    }
    const { message, binding } = protectGroupRequest(asMessage(plain), group.context, {
      mode: 'group',
      proxyOptions: numbers,
    });
    this.parts = partsOf(message);
    this.leisure = groupLeisure(group);
    this.#plain = plain;
    this.#group = group;
    this.#keyring = keyring;
    this.#binding = binding;
    this.#numbers = numbers;
  }

  forResponder(parts: MessageParts, remote: Address, kind: SecuredKind): SecuredRequest | undefined {
    const kid = this.#responders.get(peerKey(remote));
    if (kid === undefined) return undefined;
    const member = { group: this.#group, kid };
    this.#keyring.ensureRecipient(this.#group, kid);
    return new MemberRequest(parts, member, kind, this.#numbers);
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
      const r = unprotectGroupResponse(msg, this.#group.context, this.#binding, {
        proxyOptions: this.#numbers,
      });
      this.#responders.set(peerKey(remote), r.serverId);
      return observeFromPartialIv(r.response, r.partialIv);
    } catch (err) {
      if (created && kid !== undefined) this.#group.context.removeRecipient(kid);
      reportRejected('client', remote, err);
      return undefined;
    }
  }
}

/** Options of `OscoreClientSecurity`. */
export interface OscoreClientOptions {
  /**
   * What becomes of a request that no context protects. `'refuse'` (the default): it throws
   * `OscoreNoContextError` (`ERR_OSCORE_NO_CONTEXT`) and nothing is sent. `'allow'`: it is sent
   * unprotected. A list of destinations (an IP address, and a port unless any): only requests
   * to those go unprotected. A destination with a context is always protected.
   */
  readonly plaintext?: 'refuse' | 'allow' | readonly Destination[];
  /**
   * The numbers of the group proxy options, kept Outer (Class U) for `protect()` called on its
   * own. A client that wraps its exchanger with this layer passes its own numbers instead.
   */
  readonly proxyOptions?: Partial<ProxyOptionNumbers> | 'draft-suggested';
}

function checkPlaintext(p: OscoreClientOptions['plaintext']): void {
  if (p === undefined || p === 'refuse' || p === 'allow') return;
  if (!Array.isArray(p))
    throw new InvalidArgumentError(`plaintext ${String(p)}: use 'refuse', 'allow' or a list of destinations`);
  for (const d of p as readonly Destination[]) {
    if (typeof d?.address !== 'string' || ipFamily(d.address) === 0)
      throw new InvalidArgumentError(`plaintext: ${JSON.stringify(d?.address)} is not an IP address`);
    if (d.port !== undefined && (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535))
      throw new InvalidArgumentError(`plaintext: port ${String(d.port)} of ${d.address} is not 1-65535`);
  }
}

/**
 * The client side of the OSCORE layer: give it to `CoapClient.create({ security })`, which
 * wraps the client's exchanger with it (`wrap`, client-exchanger). A request to a destination
 * without a context is refused (`ERR_OSCORE_NO_CONTEXT`), never sent in the clear, unless the
 * `plaintext` option allows it. `protect` is the same protection, one request at a time.
 *
 * @example
 * ```ts
 * const keyring = loadOscoreConfig('client.json');
 * const client = await CoapClient.create({ security: new OscoreClientSecurity(keyring) });
 * const res = await client.request('coap://127.0.0.2/light'); // protected, verified
 * ```
 */
export class OscoreClientSecurity implements RequestProtection, ExchangerLayer {
  readonly keyring: OscoreKeyring;
  /** OSCORE (RFC 8613 §2) is critical: the messenger must pass it up. */
  readonly criticalOptions: readonly number[] = [Opt.Oscore];
  readonly #plaintext: 'refuse' | 'allow' | readonly Destination[];
  readonly #numbers: ProxyOptionNumbers;

  /** @throws InvalidArgumentError for a `plaintext` or `proxyOptions` option that is none of its forms. */
  constructor(keyring: OscoreKeyring, options: OscoreClientOptions = {}) {
    checkPlaintext(options.plaintext);
    this.#numbers = proxyOptionNumbers(options.proxyOptions);
    this.keyring = keyring;
    const p = options.plaintext ?? 'refuse';
    this.#plaintext = typeof p === 'string' ? p : p.map((d) => ({ ...d }));
  }

  /**
   * The protected request; `undefined` (send it as it is) only where `plaintext` allows it.
   * @throws OscoreNoContextError `ERR_OSCORE_NO_CONTEXT` when no context protects `dest` and
   *   plaintext to it was not allowed; OscoreError `ERR_OSCORE_SEQUENCE_EXHAUSTED`;
   *   InvalidArgumentError for a request OSCORE cannot carry (e.g. one that already has an
   *   OSCORE option).
   */
  protect(parts: MessageParts, dest: Address, kind: SecuredKind): SecuredRequest | undefined {
    return this.#protectOrRefuse(parts, dest, kind, this.#numbers);
  }

  /** The client's exchanger, wrapped: what it sends is protected, what comes back opened. */
  wrap(inner: Exchanger, context: LayerContext): Exchanger {
    const numbers = context.proxyOptions ?? this.#numbers;
    return new SecuredExchanger(inner, context, (parts, dest, kind) =>
      this.#protectOrRefuse(parts, dest, kind, numbers),
    );
  }

  #protectOrRefuse(
    parts: MessageParts,
    dest: Address,
    kind: SecuredKind,
    numbers: ProxyOptionNumbers,
  ): SecuredRequest | undefined {
    const secured = this.#protect(parts, dest, kind, numbers);
    if (secured !== undefined || this.#allowsPlaintext(dest)) return secured;
    throw new OscoreNoContextError(dest, kind);
  }

  #allowsPlaintext(dest: Address): boolean {
    const p = this.#plaintext;
    return p === 'allow' || (p !== 'refuse' && p.some((d) => matches(d, dest)));
  }

  #protect(
    parts: MessageParts,
    dest: Address,
    kind: SecuredKind,
    numbers: ProxyOptionNumbers,
  ): SecuredRequest | undefined {
    const keyring = this.keyring;
    if (kind === 'group') {
      const group = keyring.groupFor(dest);
      return group === undefined ? undefined : new GroupRequest(parts, group, keyring, numbers);
    }
    // A context bound to this peer, then a group member there (draft §8), then the fallback.
    const bound = keyring.oscoreFor(dest, { fallback: false });
    if (bound !== undefined) return new UnicastRequest(parts, bound, kind, numbers);
    const member = keyring.memberAt(dest);
    if (member !== undefined) {
      // Its Recipient Context is made from the roster's credential if this is the first contact.
      keyring.ensureRecipient(member.group, member.kid);
      if (member.group.context.recipient(member.kid) !== undefined)
        return new MemberRequest(parts, member, kind, numbers);
    }
    const ctx = keyring.oscoreFor(dest);
    return ctx === undefined ? undefined : new UnicastRequest(parts, ctx, kind, numbers);
  }
}
