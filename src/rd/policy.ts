/**
 * @module rd/policy
 * Who may change what in a resource directory (RFC 9176 §7, §8.3). A variant of "First Come
 * First Remembered" (§7.5): a registration remembers who made it, by OSCORE identity when the
 * request was protected and by source address otherwise, and only that requester may replace,
 * update or remove it. Commissioning tools, named by address prefix or OSCORE identity, may
 * also do third-party registrations (§5.2, a `base` that is not the requester's own address),
 * register groups (`et=core.rd-group`, Appendix A), and manage any registration. Refusals are
 * 4.01 when the request would need protection it lacks and 4.03 otherwise.
 */
import { CoapResponseError, InvalidArgumentError } from '../errors.js';
import type { IncomingRequest } from '../server/request.js';
import { type Cidr, canonicalIPv6, cidrContains, ipFamily, parseCidr } from '../util/ip.js';
import { hostOfUri } from './uri-ref.js';

/** The default commissioning tools: this host only. */
export const LOOPBACK_TOOLS: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

/** A commissioning tool: an address prefix, or an OSCORE identity (Sender ID, optional ID Context). */
export type ToolSpec = { readonly cidr: Cidr } | { readonly kid: string; readonly idContext?: string };

const HEX = /^(?:[0-9a-f]{2})*$/i;

/**
 * Reads one `--allow-ct-from` value: a CIDR prefix or address (`192.0.2.0/24`, `::1`), or an
 * OSCORE identity as hex `KID` or `KID@IDCONTEXT` (`kid:` in front is optional; an empty KID is
 * written `kid:`).
 * @throws InvalidArgumentError when it is neither.
 */
export function parseToolSpec(text: string): ToolSpec {
  const cidr = parseCidr(text);
  if (cidr !== undefined) return { cidr };
  const body = text.startsWith('kid:') ? text.slice(4) : text;
  const [kid, ctx, more] = body.split('@');
  if (
    more === undefined &&
    kid !== undefined &&
    HEX.test(kid) &&
    (ctx === undefined || (ctx !== '' && HEX.test(ctx)))
  ) {
    if (kid !== '' || text.startsWith('kid:')) {
      return { kid: kid.toLowerCase(), ...(ctx !== undefined ? { idContext: ctx.toLowerCase() } : {}) };
    }
  }
  throw new InvalidArgumentError(
    `commissioning tool ${JSON.stringify(text)} is neither an address prefix (192.0.2.0/24) nor an OSCORE identity (hex KID[@IDCONTEXT])`,
  );
}

/** The identity a registration remembers (RFC 9176 §7.5). */
export function requesterIdentity(req: IncomingRequest): string {
  const s = req.security;
  if (s !== undefined) return `${s.kind}:${s.kid}@${s.idContext ?? ''}`;
  return `addr:${normalAddress(req.source.address)}`;
}

function normalAddress(address: string): string {
  const plain = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped !== null) return mapped[1]!;
  return ipFamily(plain) === 6 ? canonicalIPv6(plain) : plain;
}

/** True when the identity is an OSCORE one (its owner must come protected). */
function isProtectedIdentity(identity: string): boolean {
  return !identity.startsWith('addr:');
}

/** The authorization decisions of a resource directory. */
export class RdPolicy {
  private readonly tools: readonly ToolSpec[];

  /** @throws InvalidArgumentError for an entry that is not a prefix or an identity. */
  constructor(commissioningTools: readonly (string | ToolSpec)[] = LOOPBACK_TOOLS) {
    if (!Array.isArray(commissioningTools)) {
      throw new InvalidArgumentError('commissioningTools must be an array of prefixes or identities');
    }
    this.tools = commissioningTools.map((t) => (typeof t === 'string' ? parseToolSpec(t) : t));
  }

  /** Whether the requester is an allow-listed commissioning tool. */
  isTool(req: IncomingRequest): boolean {
    const s = req.security;
    for (const t of this.tools) {
      if ('cidr' in t) {
        if (cidrContains(t.cidr, req.source.address)) return true;
      } else if (
        s !== undefined &&
        s.kid === t.kid &&
        (t.idContext === undefined || t.idContext === s.idContext)
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Refuses what needs a commissioning tool when the requester is not one: 4.01 when an
   * unprotected request could pass with protection (a tool is named by identity), else 4.03.
   */
  requireTool(req: IncomingRequest, what: string): void {
    if (this.isTool(req)) return;
    const byIdentity = this.tools.some((t) => 'kid' in t);
    if (req.security === undefined && byIdentity) {
      throw new CoapResponseError(
        '4.01',
        `${what} needs a commissioning tool: protect the request with OSCORE`,
      );
    }
    throw new CoapResponseError('4.03', `${what} needs a commissioning tool (RFC 9176 §7)`);
  }

  /** Refuses a change to a registration made by someone else (RFC 9176 §7.5). */
  requireOwner(req: IncomingRequest, owner: string): void {
    if (requesterIdentity(req) === owner || this.isTool(req)) return;
    if (req.security === undefined && isProtectedIdentity(owner)) {
      throw new CoapResponseError('4.01', 'this registration was made with OSCORE: protect the request');
    }
    throw new CoapResponseError(
      '4.03',
      'only the endpoint that made this registration may change it (RFC 9176 §7.5)',
    );
  }

  /**
   * True when `base` is not the requester's own address: a third-party registration
   * (RFC 9176 §5.2). A name cannot be checked, so it counts as third party.
   */
  isThirdParty(req: IncomingRequest, base: string | undefined): boolean {
    if (base === undefined) return false;
    const host = hostOfUri(base);
    if (ipFamily(host) === 0) return true;
    return normalAddress(host) !== normalAddress(req.source.address);
  }
}
