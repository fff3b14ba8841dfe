/**
 * @module group-config/policy
 * Who may read and who may change a node's group memberships. RFC 7390 §2.6.2 and §6.2 ask that
 * "only authorized controllers" configure membership, preferably authenticated by DTLS; a node
 * that anyone can reconfigure can be made to join and leave groups at will (the denial of
 * service of RFC 7390 §6.2). The interface takes the whole request, so a policy that reads an
 * OSCORE (RFC 8613) security context can replace the address allow-list given here.
 */
import { CoapResponseError, InvalidArgumentError } from '../errors.js';
import type { IncomingRequest } from '../server/request.js';
import { type Cidr, cidrContains, parseCidr } from '../util/ip.js';

/**
 * A policy's verdict. `unauthenticated`: the requester is not known (4.01 Unauthorized, RFC 7252
 * §5.9.2.2: authenticate, then try again). `forbidden`: known, or judged by address, and not
 * allowed (4.03 Forbidden, RFC 7252 §5.9.2.4: trying again will not help).
 */
export type AccessDecision = 'allow' | 'unauthenticated' | 'forbidden';

/** Decides reads (GET) and changes (POST, PUT, DELETE) of the Group Configuration resource. */
export interface AccessPolicy {
  authorizeRead(req: IncomingRequest): AccessDecision | Promise<AccessDecision>;
  authorizeWrite(req: IncomingRequest): AccessDecision | Promise<AccessDecision>;
}

/** The default controllers: this host only (RFC 7390 §2.6.2 leaves the choice to us). */
export const LOOPBACK_PREFIXES: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

/** Options of {@link CidrAccessPolicy}. */
export interface CidrPolicyOptions {
  /** Prefixes allowed to change memberships; default {@link LOOPBACK_PREFIXES}. `[]` makes the resource read-only. */
  writers?: readonly string[];
  /** Prefixes allowed to read; default `'any'`: RFC 7390 §2.6.2 restricts configuring, not reading. */
  readers?: readonly string[] | 'any';
}

function parseAll(list: readonly string[], what: string): Cidr[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${what} must be an array of CIDR prefixes`);
  return list.map((text) => {
    const c = typeof text === 'string' ? parseCidr(text) : undefined;
    if (c === undefined) {
      throw new InvalidArgumentError(
        `${what}: ${JSON.stringify(text)} is not a CIDR prefix; write e.g. 192.0.2.0/24, 127.0.0.1 or ::1/128`,
      );
    }
    return c;
  });
}

/**
 * An allow-list of source address prefixes. Without DTLS or OSCORE a source address is only as
 * trustworthy as the network that carries it (UDP sources can be forged off-link), so keep the
 * default, loopback, unless the network is controlled.
 *
 * @example
 * ```ts
 * const policy = new CidrAccessPolicy({ writers: ['192.0.2.0/24', '::1/128'] });
 * await attachGroupConfig(server, { policy });
 * ```
 * @throws InvalidArgumentError for a prefix that does not parse.
 */
export class CidrAccessPolicy implements AccessPolicy {
  readonly writers: readonly Cidr[];
  readonly readers: readonly Cidr[] | 'any';

  constructor(options: CidrPolicyOptions = {}) {
    this.writers = parseAll(options.writers ?? LOOPBACK_PREFIXES, 'writers');
    const r = options.readers ?? 'any';
    this.readers = r === 'any' ? 'any' : parseAll(r, 'readers');
  }

  authorizeRead(req: IncomingRequest): AccessDecision {
    if (this.readers === 'any') return 'allow';
    return this.readers.some((c) => cidrContains(c, req.source.address)) ? 'allow' : 'forbidden';
  }

  authorizeWrite(req: IncomingRequest): AccessDecision {
    return this.writers.some((c) => cidrContains(c, req.source.address)) ? 'allow' : 'forbidden';
  }
}

/** Throws the CoAP response for a denial; returns for `allow`. */
export function enforce(decision: AccessDecision, action: 'read' | 'change'): void {
  if (decision === 'allow') return;
  if (decision === 'unauthenticated') {
    throw new CoapResponseError('4.01', `authenticate to ${action} the group configuration`);
  }
  throw new CoapResponseError('4.03', `not allowed to ${action} the group configuration`);
}
