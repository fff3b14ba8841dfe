/**
 * @module rd/lookup-resource
 * The lookup interfaces (RFC 9176 §6): GET `/rd-lookup/ep` and `/rd-lookup/res` with search
 * criteria, `page` and `count`, answered in link format (an empty payload for no match, §6.2).
 * Both are observable (RFC 7641): a GET with Observe 0 is remembered (rd/observed), and a change
 * that can alter such a result notifies the resource's observers.
 */

import { formatLinks } from '../link-format/index.js';
import { Opt } from '../options/registry.js';
import { decodeUint } from '../options/values.js';
import type { IncomingRequest } from '../server/request.js';
import type { ResponseInit } from '../server/response.js';
import { ipFamily } from '../util/ip.js';
import type { RdContext } from './context.js';
import { type LookupKind, parseLookupQuery } from './lookup.js';
import { checkAccept, LINK_FORMAT } from './payload.js';

/** Whether the requester is on a link-local address (RFC 9176 §6.1: link-local bases are shown only there). */
function fromLinkLocal(address: string): boolean {
  const a = address.toLowerCase();
  return ipFamily(a.replace(/%.*$/, '')) === 6 && /^fe[89ab]/.test(a);
}

/** GET {+type-lookup-location}{?page,count,search*} (RFC 9176 §6.2). */
export async function lookup(ctx: RdContext, kind: LookupKind, req: IncomingRequest): Promise<ResponseInit> {
  checkAccept(req);
  const q = parseLookupQuery(req.query);
  const observe = req.option(Opt.Observe);
  if (observe !== undefined && decodeUint(observe.value) === 0) {
    ctx.service.observed.note(kind, req.query, q.criteria);
  }
  const links = await ctx.service.lookup(kind, q, { linkLocal: fromLinkLocal(req.source.address) });
  return { payload: formatLinks(links), format: LINK_FORMAT };
}
