/**
 * @module rd/simple
 * Simple registration (RFC 9176 §5.1): an endpoint POSTs an empty request to `/.well-known/rd`
 * with its parameters; the RD fetches the endpoint's `/.well-known/core` (Accept 40), registers
 * those links under the endpoint's address, and only then answers 2.04. Fetched documents are
 * cached for their Max-Age, as §5.1 advises, so a quick refresh does not fetch again. The RD
 * answers 5.04 when the endpoint does not answer in time and 5.02 when what it answers is not
 * a link-format document. `base` is not accepted here (§5.1).
 */
import type { CoapClient } from '../client/client.js';
import { CoapResponseError } from '../errors.js';
import { type Link, parseLinks } from '../link-format/index.js';
import type { IncomingRequest } from '../server/request.js';
import type { ResponseInit } from '../server/response.js';
import type { RdContext } from './context.js';
import { DEFAULT_LIFETIME, isGroupType, parseRegistrationQuery } from './params.js';
import { LINK_FORMAT } from './payload.js';
import { requesterIdentity } from './policy.js';
import { baseFromAddress } from './uri-ref.js';

/** Cached discovery documents at most. */
const MAX_CACHED = 256;

export interface SimpleContext extends RdContext {
  readonly client: CoapClient;
  /** How long the endpoint has to answer, ms. */
  readonly fetchTimeoutMs: number;
}

/** Discovery documents by endpoint, with the runtime time they stay fresh until. */
export class DiscoveryCache {
  private readonly entries = new Map<string, { links: Link[]; until: number }>();
  inFlight = 0;

  get(key: string, now: number): Link[] | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.links;
  }

  set(key: string, links: Link[], until: number): void {
    this.entries.delete(key);
    this.entries.set(key, { links, until });
    if (this.entries.size > MAX_CACHED) this.entries.delete(this.entries.keys().next().value!);
  }
}

async function fetchLinks(
  ctx: SimpleContext,
  address: string,
  port: number,
): Promise<{ links: Link[]; maxAge: number }> {
  let res: Awaited<ReturnType<CoapClient['request']>>;
  const uri = `${baseFromAddress(address, port)}/.well-known/core`;
  try {
    res = await ctx.client.request({ uri, accept: LINK_FORMAT, timeout: ctx.fetchTimeoutMs });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CoapResponseError(
      code === 'ERR_COAP_TIMEOUT' ? '5.04' : '5.02',
      `could not read ${uri}: ${(err as Error).message}`,
    );
  }
  if (res.code !== 0x45) throw new CoapResponseError('5.02', `${uri} answered ${res.codeString}`);
  if (res.format !== undefined && res.format !== LINK_FORMAT) {
    throw new CoapResponseError('5.02', `${uri} answered Content-Format ${res.format}, not 40`);
  }
  try {
    return { links: parseLinks(res.text()), maxAge: res.maxAge };
  } catch (err) {
    throw new CoapResponseError('5.02', `${uri} is not link format: ${(err as Error).message}`);
  }
}

/** POST /.well-known/rd{?ep,d,lt,extra-attrs*} (RFC 9176 §5.1). */
export async function simpleRegister(
  ctx: SimpleContext,
  cache: DiscoveryCache,
  req: IncomingRequest,
): Promise<ResponseInit> {
  const { service, policy, limits } = ctx;
  if (req.payload.length > 0)
    throw new CoapResponseError('4.00', 'a simple registration has no payload (RFC 9176 §5.1)');
  const p = parseRegistrationQuery(req.query);
  if (p.ep === undefined)
    throw new CoapResponseError('4.00', 'ep (the endpoint name) is required (RFC 9176 §5)');
  if (p.base !== undefined)
    throw new CoapResponseError('4.00', 'base is not accepted in a simple registration (RFC 9176 §5.1)');
  if (isGroupType(p.extra))
    throw new CoapResponseError('4.00', 'a group (et=core.rd-group) needs a multicast base');
  const check = () => {
    const existing = service.dir.find(p.ep!, p.d);
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
    return existing;
  };
  check();
  const { address, port } = req.source;
  const key = `${address}|${port}`;
  let links = cache.get(key, service.runtime.now());
  if (links === undefined) {
    if (cache.inFlight >= limits.maxSimpleInFlight) {
      throw new CoapResponseError('5.03', 'too many simple registrations in progress; retry', { maxAge: 1 });
    }
    cache.inFlight++;
    try {
      const fetched = await fetchLinks(ctx, address, port);
      links = fetched.links;
      cache.set(key, links, service.runtime.now() + fetched.maxAge * 1000);
    } finally {
      cache.inFlight--;
    }
  }
  if (links.length > limits.maxLinks) {
    throw new CoapResponseError('5.02', `the endpoint lists more than ${limits.maxLinks} links`);
  }
  // The directory may have changed while the endpoint was asked: check again, then save.
  const existing = check();
  const lt = p.lt ?? DEFAULT_LIFETIME;
  const id = existing?.id ?? service.dir.allocateId();
  await service.put(
    service.make({
      id,
      order: existing?.order ?? Number(id),
      ep: p.ep,
      d: p.d,
      base: baseFromAddress(address, port),
      baseGiven: false,
      lt,
      attributes: p.extra,
      links,
      owner: existing?.owner ?? requesterIdentity(req),
      simple: true,
      expiresAt: service.runtime.now() + lt * 1000,
    }),
  );
  return { code: '2.04' };
}
