/**
 * @module proxy/reverse
 * Reverse-proxy routes (groupcomm-proxy §6, groupcomm-bis §3.5.2): a path on the proxy stands
 * for a group, so `GET coap://proxy/room3/light` with the route `/room3=coap://239.255.0.3` goes
 * to `coap://239.255.0.3/light`. The remaining Uri-Path segments follow the group URI's own path
 * and the Uri-Query is kept. The longest matching route wins. A request protected end to end
 * carries its path encrypted (RFC 8613 §4.1), so no path route can see it (docs/proxy.md).
 */
import { InvalidArgumentError } from '../errors.js';
import { type CoapUri, parseUri } from '../uri/index.js';
import { isMulticast } from '../util/ip.js';

/** One route: a path prefix on the proxy, and the group it stands for. */
export interface ReverseRoute {
  /** `/room3`: one or more path segments. */
  readonly path: string;
  /** `coap://239.255.0.3[:PORT][/BASE]`: a multicast IP literal, no query. */
  readonly group: string;
}

interface Route {
  readonly prefix: readonly string[];
  readonly group: CoapUri;
  readonly text: string;
}

/** The checked routes. */
export class ReverseRoutes {
  readonly #routes: readonly Route[];

  /** @throws InvalidArgumentError naming the route that is wrong. */
  constructor(routes: readonly ReverseRoute[]) {
    if (!Array.isArray(routes)) throw new InvalidArgumentError('reverse must be an array of routes');
    const out: Route[] = [];
    for (const [i, r] of routes.entries()) {
      const path = r?.path;
      if (typeof path !== 'string' || !path.startsWith('/') || path === '/')
        throw new InvalidArgumentError(`reverse[${i}].path must be a path like /room3, not ${String(path)}`);
      let group: CoapUri;
      try {
        group = parseUri(String(r.group));
      } catch (err) {
        throw new InvalidArgumentError(`reverse[${i}].group: ${(err as Error).message}`);
      }
      if (
        group.scheme !== 'coap' ||
        group.hostKind === 'name' ||
        !isMulticast(group.host) ||
        group.query.length > 0
      )
        throw new InvalidArgumentError(
          `reverse[${i}].group ${r.group} is not a coap:// URI with a multicast IP literal and no query`,
        );
      const prefix = path.split('/').filter((s) => s !== '');
      if (out.some((o) => o.prefix.join('/') === prefix.join('/')))
        throw new InvalidArgumentError(`reverse[${i}]: the path ${path} is mapped twice`);
      out.push({ prefix, group, text: `${path}=${r.group}` });
    }
    // Longest prefix first, so /a/b wins over /a.
    this.#routes = out.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get size(): number {
    return this.#routes.length;
  }

  /** The group URI a request path and query stand for, or undefined when no route matches. */
  match(path: readonly string[], query: readonly string[]): CoapUri | undefined {
    for (const r of this.#routes) {
      if (r.prefix.length > path.length) continue;
      let ok = true;
      for (let i = 0; i < r.prefix.length && ok; i++) ok = path[i] === r.prefix[i];
      if (!ok) continue;
      return { ...r.group, path: [...r.group.path, ...path.slice(r.prefix.length)], query: [...query] };
    }
    return undefined;
  }
}
