/**
 * @module group-config/resource
 * The CoAP face of the Group Configuration resource (RFC 7390 §2.6.2): `/{+gp}` takes GET
 * (§2.6.2.4), POST (§2.6.2.2) and PUT (§2.6.2.6); `/{+gp}/{index}` takes GET (§2.6.2.5),
 * PUT (§2.6.2.7) and DELETE (§2.6.2.3). Unicast only (RFC 7390 §2.6.2). The codes RFC 7390
 * leaves open are those of design.md §Group configuration interface (R50): 4.00 bad JSON or
 * value, 4.15 wrong Content-Format, 4.05 method, 4.06 Accept, 4.04 unknown index, 4.01/4.03
 * unauthorized, 5.03 with Max-Age when changes come too fast (RFC 7390 §6.2). Every check runs
 * before anything changes, so a refused request changes nothing.
 */
import { CoapClosedError, CoapResponseError, InvalidArgumentError } from '../errors.js';
import {
  formatMembership,
  GroupJsonError,
  isValidIndex,
  normaliseIndex,
  parseCollection,
  parseMembership,
} from '../group-json/index.js';
import { ContentFormat } from '../options/content-format.js';
import type { IncomingRequest } from '../server/request.js';
import type { ResponseInit } from '../server/response.js';
import type { CoapServer } from '../server/server.js';
import type { GroupConfig } from './config.js';
import { GroupConfigFullError, GroupStateError } from './errors.js';
import { type AccessPolicy, enforce } from './policy.js';
import type { TokenBucket } from './rate-limit.js';

/** What the handlers work with. */
export interface ResourceParts {
  readonly config: GroupConfig;
  readonly policy: AccessPolicy;
  /** Undefined: no limit. */
  readonly limiter: TokenBucket | undefined;
}

type Op = 'create' | 'update' | 'delete' | 'replace';

function short(text: string): string {
  return JSON.stringify(text.length > 16 ? `${text.slice(0, 13)}...` : text);
}

/** The `{index}` of the request URI, lower case; `code` answers an index that cannot exist. */
function indexOf(req: IncomingRequest, code: '4.00' | '4.04'): string {
  const raw = req.params.index ?? '';
  if (!isValidIndex(raw)) {
    throw new CoapResponseError(
      code,
      `${short(raw)} is not a group index: 1 or 2 ASCII letters or digits (RFC 7390 §2.6.2.2)`,
    );
  }
  return normaliseIndex(raw);
}

/** RFC 7252 §5.10.4: only 256 can be produced. */
function acceptable(req: IncomingRequest): void {
  const a = req.accept;
  if (a !== undefined && a !== ContentFormat.CoapGroupJson) {
    throw new CoapResponseError('4.06', 'only Content-Format 256 (application/coap-group+json) is available');
  }
}

/** A codec error is the client's: 4.00 with the codec's message, which says what and where (R50). */
function parse<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    // One line: JSON.parse quotes the text it choked on, newlines included.
    if (err instanceof GroupJsonError)
      throw new CoapResponseError('4.00', err.message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

function content(payload: string): ResponseInit {
  return { code: '2.05', payload, format: ContentFormat.CoapGroupJson };
}

/**
 * Registers the collection and its index sub-resource on `server`; returns the function that
 * removes them again. Multicast stays off on both (RFC 7390 §2.6.2: "unicast CoAP methods").
 * @throws InvalidArgumentError when the paths already have handlers.
 */
export function registerGroupConfigResource(server: CoapServer, parts: ResourceParts): () => void {
  const { config, policy, limiter } = parts;
  const path = config.path;
  const itemPath = `${path}/:index`;
  const base = path.slice(1).split('/');
  for (const p of [path, itemPath]) {
    if (server.resources().some((r) => r.path === p && r.handlers.size > 0)) {
      throw new InvalidArgumentError(
        `${p} is already served; attach the group configuration once per server`,
      );
    }
  }

  const read = async (req: IncomingRequest): Promise<void> => {
    enforce(await policy.authorizeRead(req), 'read');
    acceptable(req);
  };

  /** Authorization, then the Content-Format of a body (4.15 also when it is missing, R50). */
  const write = async (req: IncomingRequest, body: boolean): Promise<void> => {
    enforce(await policy.authorizeWrite(req), 'change');
    if (body && req.format !== ContentFormat.CoapGroupJson) {
      throw new CoapResponseError('4.15', 'use Content-Format 256 (application/coap-group+json)');
    }
  };

  /** The rate limit, last of the checks: only valid, authorized changes spend a token. */
  const admit = (): void => {
    const wait = limiter?.take() ?? 0;
    if (wait > 0) {
      throw new CoapResponseError(
        '5.03',
        `too many group configuration changes; try again in ${wait} s (RFC 7390 §6.2)`,
        { maxAge: wait },
      );
    }
  };

  const apply = async <T>(op: Op, change: () => Promise<T>): Promise<T> => {
    try {
      return await change();
    } catch (err) {
      if (err instanceof GroupConfigFullError) {
        throw new CoapResponseError(op === 'replace' ? '4.00' : '4.09', err.message);
      }
      if (err instanceof GroupStateError) {
        config.warn(err.message); // the details are for the operator, not the client
        throw new CoapResponseError('5.00', 'the group configuration could not be saved; nothing changed');
      }
      if (err instanceof CoapClosedError) {
        throw new CoapResponseError('5.03', 'the group configuration is shutting down');
      }
      if (err instanceof GroupJsonError) throw new CoapResponseError('4.00', err.message);
      throw err;
    }
  };

  server
    .resource(path, {
      rt: 'core.gp',
      ct: ContentFormat.CoapGroupJson,
      accepts: [ContentFormat.CoapGroupJson],
      multicast: false,
    })
    .get(async (req) => {
      await read(req);
      return content(config.document());
    })
    .post(async (req) => {
      await write(req, true);
      const m = parse(() => parseMembership(req.payload));
      admit();
      const index = await apply('create', () => config.add(m));
      return { code: '2.01', location: [...base, index] };
    })
    .put(async (req) => {
      await write(req, true);
      const c = parse(() => parseCollection(req.payload));
      admit();
      await apply('replace', () => config.replace(c));
      return { code: '2.04' };
    });
  // DELETE on the collection has no handler, so the router answers 4.05 (R42, our choice).

  server
    .resource(itemPath, {
      hidden: true,
      ct: ContentFormat.CoapGroupJson,
      accepts: [ContentFormat.CoapGroupJson],
      multicast: false,
    })
    .get(async (req) => {
      await read(req);
      const index = indexOf(req, '4.04');
      const m = config.get(index);
      if (m === undefined)
        throw new CoapResponseError('4.04', `no group membership has index ${short(index)}`);
      return content(formatMembership(m));
    })
    .put(async (req) => {
      await write(req, true);
      const index = indexOf(req, '4.00');
      const m = parse(() => parseMembership(req.payload));
      admit();
      const created = await apply('update', () => config.set(index, m));
      return { code: created ? '2.01' : '2.04' };
    })
    .delete(async (req) => {
      await write(req, false);
      const index = indexOf(req, '4.04');
      admit();
      await apply('delete', () => config.remove(index));
      // RFC 7252 §5.8.4: 2.02 also when there was nothing to delete (DELETE is idempotent).
      return { code: '2.02' };
    });

  return () => {
    server.removeResource(path);
    server.removeResource(itemPath);
  };
}
