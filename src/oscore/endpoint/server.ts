/**
 * @module oscore/endpoint/server
 * The server side of OSCORE: a layer around the server's site (server/site `SiteLayer`; the
 * site itself is oscore/endpoint/server-site). Requests with an OSCORE option are verified with
 * the RFC 8613 context of their 'kid' (§8.2) or the Group OSCORE context of their 'kid context'
 * (draft-ietf-core-oscore-groupcomm §7.2, §8.4), and what answers them is protected (§8.3;
 * draft §7.3). A failure is answered as RFC 8613 §8.2 says (4.02, 4.01, 4.00, unprotected,
 * Max-Age 0) for unicast and never for multicast (draft §7.2). Until a context's replay window
 * is known to be valid (after a reboot it is not, RFC 8613 Appendix B.1.2), a verified request
 * is answered by a protected 4.01 with Echo and only the repeated request that echoes it is
 * delivered (RFC 9175 §2.4; oscore/endpoint/echo-guard), which sets the window's floor.
 */

import { Code } from '../../message/codes.js';
import { type CoapMessage, EMPTY } from '../../message/types.js';
import type { ResponseParts } from '../../messenger/server-exchange.js';
import { Opt } from '../../options/registry.js';
import { encodeUint, findOption } from '../../options/values.js';
import type { Runtime } from '../../runtime.js';
import { systemRuntime } from '../../runtime.js';
import type { Site, SiteHost, SiteLayer } from '../../server/site.js';
import { OscoreError, oscoreErrorResponse } from '../errors.js';
import { protectGroupResponse } from '../group/protect.js';
import { unprotectGroupRequest } from '../group/unprotect.js';
import { decodeOscoreOption, decodePartialIv, type OscoreOptionValue } from '../option.js';
import { protectResponse } from '../protect.js';
import { isOscoreMessage, unprotectRequest } from '../unprotect.js';
import { EchoGuard } from './echo-guard.js';
import type { GroupEntry, OscoreKeyring } from './keyring.js';
import { asMessage, hasOuterBlock, isNotification, partsOf, reportRejected } from './parts.js';
import { OscoreSite } from './server-site.js';
import type {
  OpenedRequest,
  OscoreRequestSecurity,
  RequestOrigin,
  SecurityVerdict,
} from './server-verdict.js';

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

/**
 * Echo challenges outstanding per group member at most (within the Echo lifetime): recordings
 * replayed after a restart get silence beyond that, not a signed answer each (no amplification),
 * while a genuine request that comes between them is still challenged.
 */
const MAX_GROUP_CHALLENGES = 4;

/**
 * Every notification, the first included, gets its own Partial IV (RFC 8613 §8.3 with Observe
 * allows it for the first), so clients can order all of them by Partial IV (§7.4.1); so does
 * every response after the first to one request (only one may use the request's nonce).
 */
function fresh(p: ResponseParts, again: boolean | undefined): { newPartialIv?: true } {
  return again === true || isNotification(p) ? { newPartialIv: true } : {};
}

const PLAIN: SecurityVerdict = Object.freeze({ kind: 'plain' });
const DROP: SecurityVerdict = Object.freeze({ kind: 'drop' });

function keepConfirmable(sealed: CoapMessage, p: ResponseParts): ResponseParts {
  return p.confirmable === undefined ? partsOf(sealed) : { ...partsOf(sealed), confirmable: p.confirmable };
}

/**
 * The server side of the OSCORE layer: give it to `new CoapServer({ security })`. It wraps the
 * server's site; `open()` is its verification step, usable on its own.
 *
 * @example
 * ```ts
 * const keyring = loadOscoreConfig('server.json');
 * const server = new CoapServer({ security: new OscoreServerSecurity(keyring) });
 * server.resource('/light', { protected: true }).get((req) => ({ payload: req.security?.kid }));
 * ```
 */
export class OscoreServerSecurity implements SiteLayer {
  readonly keyring: OscoreKeyring;
  /** OSCORE (RFC 8613 §2) is critical: the messenger must pass it up. */
  readonly criticalOptions: readonly number[] = [Opt.Oscore];
  readonly #echo: boolean;
  readonly #diagnostic: boolean;
  readonly #runtime: Runtime;
  readonly #pairwiseResponses: boolean;
  /** By RFC 8613 context (RFC 8613 Appendix B.1.2): one open value, replaced by each challenge. */
  readonly #unicastEcho: EchoGuard;
  /** By Group OSCORE Recipient Context, one per member (draft §10). */
  readonly #groupEcho: EchoGuard;

  constructor(keyring: OscoreKeyring, options: OscoreServerOptions = {}) {
    this.keyring = keyring;
    this.#echo = options.echo ?? true;
    this.#diagnostic = options.diagnostic ?? true;
    this.#runtime = options.runtime ?? systemRuntime;
    this.#pairwiseResponses = options.groupResponses === 'pairwise';
    const lifetimeMs = options.echoLifetimeMs ?? 30_000;
    this.#unicastEcho = new EchoGuard(this.#runtime, { lifetimeMs, maxOpen: 1, whenFull: 'replace' });
    this.#groupEcho = new EchoGuard(this.#runtime, {
      lifetimeMs,
      maxOpen: MAX_GROUP_CHALLENGES,
      whenFull: 'silent',
    });
  }

  /** groupcomm-bis §3.1.5 (20 s group mode, 13 s pairwise only) when the node is in a group. */
  get defaultLeisure(): number | undefined {
    return this.keyring.defaultLeisure;
  }

  /** The site around `inner` (server/site `SiteLayer`): opens requests, protects what answers them. */
  wrap(inner: Site, host: SiteHost): Site {
    return new OscoreSite(this, inner, host);
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
      const echo = findOption(u.request.options, Opt.Echo)?.value;
      const check = this.#unicastEcho.check(ctx, echo, true);
      if (check.kind === 'challenge') {
        // RFC 8613 Appendix B.1.2: a protected 4.01 with Echo, with the server's own Partial IV.
        const sealed = protectResponse(asMessage(challengeParts(check.value)), ctx, binding, {
          newPartialIv: true,
        });
        return { kind: 'reply', parts: partsOf(sealed) };
      }
      // The request is fresh: its Partial IV becomes the window's lower limit.
      if (check.kind === 'answered') resetWindow(ctx.recipient.replayWindow, binding.partialIv);
    }
    const security: OscoreRequestSecurity = {
      kind: 'oscore',
      kid: binding.kid.toString('hex'),
      ...(ctx.common.idContext !== undefined ? { idContext: ctx.common.idContext.toString('hex') } : {}),
    };
    const opened: OpenedRequest = {
      request: u.request,
      security,
      seal: (p, again) => keepConfirmable(protectResponse(asMessage(p), ctx, binding, fresh(p, again)), p),
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
      const security: OscoreRequestSecurity = {
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
        seal: (p, again) =>
          keepConfirmable(
            protectGroupResponse(asMessage(p), group.context, u.binding, { ...fresh(p, again), ...mode }),
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
    const echo = findOption(u.request.options, Opt.Echo)?.value;
    const common = group.context.common;
    const pairwise = common.aead !== undefined && common.pairwiseKeyAgreementAlgorithm !== undefined;
    // §10: the request echoing the value "MUST be a message sent unicast to that server", in
    // the pairwise mode where the group sets it (§14.6: a group mode one could be redirected).
    const mayAnswer = !origin.multicast && (!pairwise || u.mode === 'pairwise');
    const check = this.#groupEcho.check(u.sender, echo, mayAnswer);
    if (check.kind === 'valid') return undefined;
    if (check.kind === 'answered') {
      resetWindow(u.sender.replayWindow, u.binding.partialIv);
      return undefined;
    }
    if (check.kind === 'silent') return DROP;
    const sealed = protectGroupResponse(asMessage(challengeParts(check.value)), group.context, u.binding, {
      newPartialIv: true,
    });
    return { kind: 'challenge', request: u.request, parts: partsOf(sealed), sent: check.sent };
  }

  #outerBlock(origin: RequestOrigin): SecurityVerdict {
    reportRejected('server', origin.remote, 'ERR_OSCORE_OUTER_BLOCKWISE');
    if (origin.multicast) return DROP;
    // The site joins Outer Block fragments before opening (oscore/endpoint/server-outer-block); a message
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

/** The protected 4.01 with Echo that challenges a request (RFC 9175 §2.4). */
function challengeParts(value: Buffer): ResponseParts {
  return { code: Code.Unauthorized, options: [{ number: Opt.Echo, value }], payload: EMPTY };
}

/** A fresh request's Partial IV becomes its replay window's lower limit (RFC 9175 §2.4). */
function resetWindow(
  window: { reset(seq: number): void; update(seq: number): void },
  partialIv: Buffer,
): void {
  const seq = decodePartialIv(partialIv);
  window.reset(seq);
  window.update(seq);
}
