/**
 * @module oscore/endpoint/server
 * The server side of OSCORE as a layer around messages (`server/security` hook): requests with
 * an OSCORE option are verified with the RFC 8613 context of their 'kid' (§8.2) or the Group
 * OSCORE context of their 'kid context' (draft-ietf-core-oscore-groupcomm §7.2, §8.4), and
 * what answers them is protected (§8.3; draft §7.3). A failure is answered as RFC 8613 §8.2 says
 * (4.02, 4.01, 4.00, unprotected, Max-Age 0) for unicast and never for multicast (draft §7.2).
 * Until a context's replay window is known to be valid (after a reboot it is not, RFC 8613
 * Appendix B.1.2), a verified request is answered by a protected 4.01 with Echo and only the
 * repeated request that echoes it is delivered (RFC 9175 §2.4), which sets the window's floor.
 */

import { Code } from '../../message/codes.js';
import { type CoapMessage, EMPTY } from '../../message/types.js';
import type { ResponseParts } from '../../messenger/server-exchange.js';
import { Opt } from '../../options/registry.js';
import { encodeUint, findOption } from '../../options/values.js';
import type { Runtime } from '../../runtime.js';
import { systemRuntime } from '../../runtime.js';
import type {
  OpenedRequest,
  RequestOrigin,
  RequestSecurity,
  SecurityVerdict,
  ServerSecurity,
} from '../../server/security.js';
import { OscoreError, oscoreErrorResponse } from '../errors.js';
import { protectGroupResponse } from '../group/protect.js';
import { unprotectGroupRequest } from '../group/unprotect.js';
import { decodeOscoreOption, decodePartialIv, type OscoreOptionValue } from '../option.js';
import { protectResponse } from '../protect.js';
import { isOscoreMessage, unprotectRequest } from '../unprotect.js';
import type { GroupEntry, OscoreKeyring } from './keyring.js';
import { asMessage, hasOuterBlock, isNotification, partsOf, reportRejected } from './parts.js';

/** Options of `OscoreServerSecurity`. */
export interface OscoreServerOptions {
  /**
   * Challenge the first request of each RFC 8613 context, and of each group member, with Echo
   * before delivering anything (RFC 8613 Appendix B.1.2, Group OSCORE draft §2.6.1.2, §10: the
   * replay windows are not kept across restarts). Default true.
   */
  readonly echo?: boolean;
  /** How long an Echo value is accepted after it was sent, ms; default 30 000 (RFC 9175 §2.3). */
  readonly echoLifetimeMs?: number;
  /** Send the diagnostic payloads RFC 8613 §8.2 suggests in error responses; default true. */
  readonly diagnostic?: boolean;
  /** Clock and randomness (Echo values); default the system's. */
  readonly runtime?: Runtime;
  /**
   * `'pairwise'`: answer group mode requests in the pairwise mode where the group uses it
   * (draft §1, §6): each response saves a countersignature (64 bytes and a signing). Default
   * `'request'`: the request's mode.
   */
  readonly groupResponses?: 'request' | 'pairwise';
}

/** Echo challenges outstanding per group member at most (within the Echo lifetime). */
const MAX_CHALLENGES = 4;

/** Freshness state of one group member (draft §10): its window's validity and open challenges. */
interface GroupFreshness {
  valid: boolean;
  challenges: Array<{ readonly value: Buffer; sentAt: number }>;
}

/** Freshness state of one RFC 8613 context (RFC 8613 Appendix B.1.2). */
interface Freshness {
  valid: boolean;
  challenge: Buffer | undefined;
  sentAt: number;
}

/**
 * Every notification, the first included, gets its own Partial IV (RFC 8613 §8.3 with Observe
 * allows it for the first), so clients can order all of them by Partial IV (§7.4.1).
 */
function fresh(p: ResponseParts): { newPartialIv?: true } {
  return isNotification(p) ? { newPartialIv: true } : {};
}

const PLAIN: SecurityVerdict = Object.freeze({ kind: 'plain' });
const DROP: SecurityVerdict = Object.freeze({ kind: 'drop' });

function keepConfirmable(sealed: CoapMessage, p: ResponseParts): ResponseParts {
  return p.confirmable === undefined ? partsOf(sealed) : { ...partsOf(sealed), confirmable: p.confirmable };
}

/**
 * The server hook of the OSCORE layer: give it to `new CoapServer({ security })`.
 *
 * @example
 * ```ts
 * const keyring = loadOscoreConfig('server.json');
 * const server = new CoapServer({ security: new OscoreServerSecurity(keyring) });
 * server.resource('/light', { protected: true }).get((req) => ({ payload: req.security?.kid }));
 * ```
 */
export class OscoreServerSecurity implements ServerSecurity {
  readonly keyring: OscoreKeyring;
  /** OSCORE (RFC 8613 §2) is critical: the messenger must pass it up. */
  readonly criticalOptions: readonly number[] = [Opt.Oscore];
  readonly #echo: boolean;
  readonly #echoLifetime: number;
  readonly #diagnostic: boolean;
  readonly #runtime: Runtime;
  readonly #pairwiseResponses: boolean;
  /** By RFC 8613 context. */
  readonly #fresh = new WeakMap<object, Freshness>();
  /** By Group OSCORE Recipient Context (one per member): draft §10. */
  readonly #groupFresh = new WeakMap<object, GroupFreshness>();

  constructor(keyring: OscoreKeyring, options: OscoreServerOptions = {}) {
    this.keyring = keyring;
    this.#echo = options.echo ?? true;
    this.#echoLifetime = options.echoLifetimeMs ?? 30_000;
    this.#diagnostic = options.diagnostic ?? true;
    this.#runtime = options.runtime ?? systemRuntime;
    this.#pairwiseResponses = options.groupResponses === 'pairwise';
  }

  /** groupcomm-bis §3.1.5 (20 s group mode, 13 s pairwise only) when the node is in a group. */
  get defaultLeisure(): number | undefined {
    return this.keyring.defaultLeisure;
  }

  open(request: CoapMessage, origin: RequestOrigin): SecurityVerdict {
    if (!isOscoreMessage(request)) return PLAIN;
    let value: OscoreOptionValue;
    try {
      value = decodeOscoreOption(findOption(request.options, Opt.Oscore)!.value, { allowGroupFlag: true });
      if (hasOuterBlock(request)) return this.#outerBlock(origin);
    } catch (err) {
      return this.#fail(err, origin);
    }
    const group = value.kidContext === undefined ? undefined : this.keyring.groupById(value.kidContext);
    if (group !== undefined || value.groupFlag) return this.#openGroup(request, origin, group, value);
    // RFC 8613 contexts are pairwise: a multicast request cannot be one of theirs.
    if (origin.multicast) return DROP;
    return this.#openUnicast(request, origin);
  }

  #openUnicast(request: CoapMessage, origin: RequestOrigin): SecurityVerdict {
    let u: ReturnType<typeof unprotectRequest>;
    try {
      u = unprotectRequest(request, this.keyring.resolve);
    } catch (err) {
      return this.#fail(err, origin);
    }
    const ctx = u.context;
    const binding = u.binding;
    if (this.#echo) {
      const st = this.#freshness(ctx);
      if (!st.valid) {
        const echo = findOption(u.request.options, Opt.Echo);
        const now = this.#runtime.now();
        const answered =
          echo !== undefined &&
          st.challenge !== undefined &&
          echo.value.equals(st.challenge) &&
          now - st.sentAt <= this.#echoLifetime;
        if (!answered) {
          // RFC 8613 Appendix B.1.2: a protected 4.01 with Echo, with the server's own Partial IV.
          st.challenge = this.#runtime.randomBytes(8);
          st.sentAt = now;
          const challenge = { code: Code.Unauthorized, options: [{ number: Opt.Echo, value: st.challenge }] };
          const sealed = protectResponse(asMessage({ ...challenge, payload: EMPTY }), ctx, binding, {
            newPartialIv: true,
          });
          return { kind: 'reply', parts: partsOf(sealed) };
        }
        // The request is fresh: its Partial IV becomes the window's lower limit.
        const seq = decodePartialIv(binding.partialIv);
        ctx.recipient.replayWindow.reset(seq);
        ctx.recipient.replayWindow.update(seq);
        st.valid = true;
        st.challenge = undefined;
      }
    }
    const security: RequestSecurity = {
      kind: 'oscore',
      kid: binding.kid.toString('hex'),
      ...(ctx.common.idContext !== undefined ? { idContext: ctx.common.idContext.toString('hex') } : {}),
    };
    const opened: OpenedRequest = {
      request: u.request,
      security,
      seal: (p) => keepConfirmable(protectResponse(asMessage(p), ctx, binding, fresh(p)), p),
    };
    return { kind: 'opened', opened };
  }

  #openGroup(
    request: CoapMessage,
    origin: RequestOrigin,
    group: GroupEntry | undefined,
    value: OscoreOptionValue,
  ): SecurityVerdict {
    const kid = value.kid;
    let created = false;
    let verified = false;
    try {
      if (group === undefined) {
        throw new OscoreError('ERR_OSCORE_UNKNOWN_KID', 'no group with this Group ID');
      }
      // A known member's first request makes its Recipient Context (draft §3.2); nobody else's does.
      if (kid !== undefined) created = this.keyring.ensureRecipient(group, kid);
      const u = unprotectGroupRequest(request, group.context);
      verified = true;
      if (this.#echo) {
        const challenge = this.#groupFreshness(u, group, origin);
        if (challenge !== undefined) return challenge;
      }
      const security: RequestSecurity = {
        kind: 'group-oscore',
        kid: u.binding.kid.toString('hex'),
        idContext: group.context.common.idContext.toString('hex'),
      };
      const common = group.context.common;
      const pairwise =
        this.#pairwiseResponses &&
        common.aead !== undefined &&
        common.pairwiseKeyAgreementAlgorithm !== undefined;
      const mode = pairwise ? ({ mode: 'pairwise' } as const) : {};
      const opened: OpenedRequest = {
        request: u.request,
        security,
        seal: (p) =>
          keepConfirmable(
            protectGroupResponse(asMessage(p), group.context, u.binding, { ...fresh(p), ...mode }),
            p,
          ),
      };
      return { kind: 'opened', opened };
    } catch (err) {
      // Leave no state behind: the window moved only on success; a context made now goes again
      // (unless the request verified and only what answers it failed).
      if (created && kid !== undefined && !verified) group?.context.removeRecipient(kid);
      return this.#fail(err, origin);
    }
  }

  /**
   * Group OSCORE draft §10, §2.6.1.2: the first request of each member after this node started
   * is not delivered, since its replay window is not known to be valid; a protected 4.01 with
   * Echo answers it (in the request's mode, with this node's own Partial IV). The member's
   * unicast request that echoes the value within `echoLifetimeMs` sets the window's lower limit.
   */
  #groupFreshness(
    u: ReturnType<typeof unprotectGroupRequest>,
    group: GroupEntry,
    origin: RequestOrigin,
  ): SecurityVerdict | undefined {
    let st = this.#groupFresh.get(u.sender);
    if (st === undefined) this.#groupFresh.set(u.sender, (st = { valid: false, challenges: [] }));
    if (st.valid) return undefined;
    const now = this.#runtime.now();
    // Values outlive neither their lifetime nor the window they guard.
    st.challenges = st.challenges.filter((c) => now - c.sentAt <= this.#echoLifetime);
    const echo = findOption(u.request.options, Opt.Echo);
    const common = group.context.common;
    const pairwise = common.aead !== undefined && common.pairwiseKeyAgreementAlgorithm !== undefined;
    // §10: the request echoing the value "MUST be a message sent unicast to that server", in
    // the pairwise mode where the group sets it (§14.6: a group mode one could be redirected).
    const answered =
      !origin.multicast &&
      echo !== undefined &&
      (!pairwise || u.mode === 'pairwise') &&
      st.challenges.some((c) => echo.value.equals(c.value));
    if (answered) {
      const seq = decodePartialIv(u.binding.partialIv);
      u.sender.replayWindow.reset(seq);
      u.sender.replayWindow.update(seq);
      st.valid = true;
      st.challenges = [];
      return undefined;
    }
    // A few challenges per member and lifetime: recordings replayed after a restart get silence
    // beyond that, not a signed answer each (no amplification), while a genuine request that
    // comes between them is still challenged.
    if (st.challenges.length >= MAX_CHALLENGES) return DROP;
    const value = this.#runtime.randomBytes(8);
    const entry = { value, sentAt: now };
    st.challenges.push(entry);
    const challenge = { code: Code.Unauthorized, options: [{ number: Opt.Echo, value }] };
    const sealed = protectGroupResponse(
      asMessage({ ...challenge, payload: EMPTY }),
      group.context,
      u.binding,
      {
        newPartialIv: true,
      },
    );
    // RFC 9175 §2.2: the value's age counts from when it is sent, which Leisure may delay.
    const sent = () => {
      entry.sentAt = this.#runtime.now();
    };
    return { kind: 'challenge', request: u.request, parts: partsOf(sealed), sent };
  }

  #freshness(key: object): Freshness {
    let st = this.#fresh.get(key);
    if (st === undefined) this.#fresh.set(key, (st = { valid: false, challenge: undefined, sentAt: 0 }));
    return st;
  }

  #outerBlock(origin: RequestOrigin): SecurityVerdict {
    reportRejected('server', origin.remote, 'ERR_OSCORE_OUTER_BLOCKWISE');
    if (origin.multicast) return DROP;
    // CoapServer joins Outer Block fragments before this hook (server/outer-block); a message
    // that still carries them came another way, and they are critical (RFC 7252 §5.4.1).
    const text = this.#diagnostic ? 'Outer Block options must be joined before OSCORE processing' : '';
    return {
      kind: 'reply',
      parts: {
        code: Code.BadOption,
        options: [{ number: Opt.MaxAge, value: encodeUint(0) }],
        payload: Buffer.from(text),
      },
    };
  }

  /** RFC 8613 §8.2: the unprotected error response for unicast; nothing for a group. */
  #fail(err: unknown, origin: RequestOrigin): SecurityVerdict {
    reportRejected('server', origin.remote, err);
    if (origin.multicast || !(err instanceof OscoreError)) return DROP;
    const r = oscoreErrorResponse(err, { diagnostic: this.#diagnostic });
    return r === undefined ? DROP : { kind: 'reply', parts: { ...r } };
  }
}
