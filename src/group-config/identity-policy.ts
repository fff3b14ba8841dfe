/**
 * @module group-config/identity-policy
 * Authorization of /coap-group changes by cryptographic identity (RFC 7390 §2.6.2 asks that only
 * authorized controllers configure memberships; §5.3.3 expects a security solution for it). A
 * controller is named by the OSCORE Sender ID (kid) it protects its requests with, and for Group
 * OSCORE by the Group ID too. Once any controller is configured, an unprotected change is
 * answered 4.01 and a change protected by another identity 4.03; address allow-lists play no
 * part unless given as an explicit fallback.
 */
import { InvalidArgumentError } from '../errors.js';
import type { IncomingRequest } from '../server/request.js';
import type { AccessDecision, AccessPolicy } from './policy.js';

/** One authorized controller. */
export interface Controller {
  /** The controller's OSCORE Sender ID, hex (`'2b4f'`; `''` for the empty ID). */
  readonly kid: string;
  /** The ID Context (Group ID for Group OSCORE), hex; when set, it must match too. */
  readonly idContext?: string;
}

/** Options of {@link IdentityAccessPolicy}. */
export interface IdentityPolicyOptions {
  /** The controllers that may change memberships; at least one. */
  readonly controllers: readonly Controller[];
  /** `'any'` (default): anyone may read; `'protected'`: reads need a verified identity. */
  readonly readers?: 'any' | 'protected';
  /** Decides unprotected changes instead of refusing them (e.g. an address allow-list). */
  readonly unprotectedFallback?: AccessPolicy;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function normalise(c: Controller, i: number): Controller {
  const kid = String(c.kid ?? '').toLowerCase();
  if (!HEX.test(kid))
    throw new InvalidArgumentError(`controllers[${i}].kid ${JSON.stringify(c.kid)} is not hex bytes`);
  if (c.idContext === undefined) return { kid };
  const idContext = String(c.idContext).toLowerCase();
  if (!HEX.test(idContext)) {
    throw new InvalidArgumentError(
      `controllers[${i}].idContext ${JSON.stringify(c.idContext)} is not hex bytes`,
    );
  }
  return { kid, idContext };
}

/** Parses `KID` or `KID@IDCONTEXT` (hex), as given on the command line. */
export function parseController(text: string): Controller {
  const [kid = '', idContext] = text.split('@');
  return normalise(idContext === undefined ? { kid } : { kid, idContext }, 0);
}

/**
 * Changes only from the configured OSCORE identities.
 *
 * @example
 * attachGroupConfig(server, { policy: new IdentityAccessPolicy({ controllers: [{ kid: '2b4f' }] }) });
 */
export class IdentityAccessPolicy implements AccessPolicy {
  readonly controllers: readonly Controller[];
  private readonly readers: 'any' | 'protected';
  private readonly fallback: AccessPolicy | undefined;

  constructor(options: IdentityPolicyOptions) {
    if (!Array.isArray(options.controllers) || options.controllers.length === 0) {
      throw new InvalidArgumentError('an identity policy needs at least one controller');
    }
    this.controllers = options.controllers.map(normalise);
    this.readers = options.readers ?? 'any';
    this.fallback = options.unprotectedFallback;
  }

  authorizeRead(req: IncomingRequest): AccessDecision {
    return this.readers === 'any' || req.security !== undefined ? 'allow' : 'unauthenticated';
  }

  authorizeWrite(req: IncomingRequest): AccessDecision | Promise<AccessDecision> {
    const s = req.security;
    if (s === undefined) return this.fallback ? this.fallback.authorizeWrite(req) : 'unauthenticated';
    const ok = this.controllers.some(
      (c) => c.kid === s.kid && (c.idContext === undefined || c.idContext === (s.idContext ?? '')),
    );
    return ok ? 'allow' : 'forbidden';
  }
}
