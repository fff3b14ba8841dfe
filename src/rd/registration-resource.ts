/**
 * @module rd/registration-resource
 * The registration interface and the registration resources (RFC 9176 §5, §5.2, §5.3): POST
 * to `/rd` registers (2.01 and Location-Path; the same location again for the same (ep, d)),
 * POST to `/rd/{id}` updates with or without new links (§5.3.1, 2.04), DELETE removes (§5.3.2,
 * 2.02), GET reads the links as stored (§5.3.3). Every check runs before anything changes:
 * parameters (4.00), payload (4.15, 4.00, 4.13), authorization (4.01, 4.03), room (5.03).
 */
import { CoapResponseError } from '../errors.js';
import { formatLinks } from '../link-format/index.js';
import type { IncomingRequest } from '../server/request.js';
import type { ResponseInit } from '../server/response.js';
import type { RdContext } from './context.js';
import { DEFAULT_LIFETIME, isGroupType, mergeAttributes, parseRegistrationQuery } from './params.js';
import { checkAccept, LINK_FORMAT, readLinks, withSize1 } from './payload.js';
import { requesterIdentity } from './policy.js';
import type { Registration } from './registration.js';
import { baseFromAddress, isMulticastBase } from './uri-ref.js';

function locationOf(r: Registration): string[] {
  return r.path.slice(1).split('/');
}

/** Refuses a group (et=core.rd-group) whose base is not a multicast address (Appendix A). */
function checkGroupBase(base: string | undefined): void {
  if (base === undefined) {
    throw new CoapResponseError('4.00', 'a group (et=core.rd-group) needs base=coap://MULTICAST-ADDRESS');
  }
  if (!isMulticastBase(base)) {
    throw new CoapResponseError('4.00', `a group's base must be a multicast address literal, not ${base}`);
  }
}

/** POST {+rd}{?ep,d,lt,base,extra-attrs*} (RFC 9176 §5). */
export function register(ctx: RdContext, req: IncomingRequest): Promise<ResponseInit> {
  return withSize1(async () => {
    const { service, policy, limits } = ctx;
    const links = readLinks(req, limits.maxPayloadBytes, limits.maxLinks) ?? [];
    const p = parseRegistrationQuery(req.query);
    if (p.ep === undefined)
      throw new CoapResponseError('4.00', 'ep (the endpoint name) is required (RFC 9176 §5)');
    if (isGroupType(p.extra)) {
      checkGroupBase(p.base);
      policy.requireTool(req, 'registering a group');
    } else if (policy.isThirdParty(req, p.base)) {
      policy.requireTool(req, `a registration for another address (base=${p.base})`);
    }
    const existing = service.dir.find(p.ep, p.d);
    if (existing !== undefined) policy.requireOwner(req, existing.owner);
    else if (service.dir.size >= limits.maxRegistrations) {
      throw new CoapResponseError(
        '5.03',
        `the directory is full (${limits.maxRegistrations} registrations)`,
        {
          maxAge: service.retryAfter(),
        },
      );
    }
    const lt = p.lt ?? DEFAULT_LIFETIME;
    const id = existing?.id ?? service.dir.allocateId();
    const reg = service.make({
      id,
      order: existing?.order ?? Number(id),
      ep: p.ep,
      d: p.d,
      base: p.base ?? baseFromAddress(req.source.address, req.source.port),
      baseGiven: p.base !== undefined,
      lt,
      attributes: p.extra,
      links,
      // A commissioning tool replacing an endpoint's registration leaves it the endpoint's.
      owner: existing?.owner ?? requesterIdentity(req),
      simple: false,
      expiresAt: service.runtime.now() + lt * 1000,
    });
    await service.put(reg);
    return { code: '2.01', location: locationOf(reg) };
  });
}

function registrationOf(ctx: RdContext, req: IncomingRequest): Registration {
  const r = ctx.service.dir.get(req.params.id ?? '');
  if (r === undefined) throw new CoapResponseError('4.04', 'no such registration (it may have expired)');
  return r;
}

/** POST {+location}{?lt,base,extra-attrs*} (RFC 9176 §5.3.1), links replaced when given. */
export function update(ctx: RdContext, req: IncomingRequest): Promise<ResponseInit> {
  return withSize1(async () => {
    const { service, policy, limits } = ctx;
    const reg = registrationOf(ctx, req);
    policy.requireOwner(req, reg.owner);
    const links = readLinks(req, limits.maxPayloadBytes, limits.maxLinks);
    const p = parseRegistrationQuery(req.query);
    if ((p.ep !== undefined && p.ep !== reg.ep) || (p.d !== undefined && p.d !== reg.d)) {
      throw new CoapResponseError('4.00', 'ep and d name the registration and cannot change in an update');
    }
    const attributes = p.extra.length > 0 ? mergeAttributes(reg.attributes, p.extra) : reg.attributes;
    // RFC 9176 §5.3.1: without a base ever given, the updater's address becomes the base; a
    // commissioning tool refreshing someone else's registration does not move it to itself.
    const own = requesterIdentity(req) === reg.owner;
    const base =
      p.base ?? (reg.baseGiven || !own ? reg.base : baseFromAddress(req.source.address, req.source.port));
    if (isGroupType(attributes)) {
      checkGroupBase(base);
      if (!reg.isGroup || p.base !== undefined) policy.requireTool(req, 'registering a group');
    } else if (p.base !== undefined && policy.isThirdParty(req, p.base)) {
      policy.requireTool(req, `a registration for another address (base=${p.base})`);
    }
    const lt = p.lt ?? reg.lt;
    const next = service.make({
      ...reg,
      base,
      baseGiven: reg.baseGiven || p.base !== undefined,
      lt,
      attributes,
      links: links ?? reg.links,
      // RFC 9176 §5.3.1: an update restarts the lifetime, whether or not lt is given.
      expiresAt: service.runtime.now() + lt * 1000,
    });
    await service.put(next);
    return { code: '2.04' };
  });
}

/** DELETE {+location} (RFC 9176 §5.3.2). */
export async function remove(ctx: RdContext, req: IncomingRequest): Promise<ResponseInit> {
  const reg = registrationOf(ctx, req);
  ctx.policy.requireOwner(req, reg.owner);
  await ctx.service.remove(reg.id);
  return { code: '2.02' };
}

/** GET {+location}: the links as they were registered (RFC 9176 §5.3.3). */
export function read(ctx: RdContext, req: IncomingRequest): ResponseInit {
  checkAccept(req);
  const reg = registrationOf(ctx, req);
  return { payload: formatLinks(reg.links), format: LINK_FORMAT };
}
