/**
 * @module uri/location
 * The location a response points to: Location-Path and Location-Query (RFC 7252 §5.10.7) resolved
 * against the request URI, whose host is the responder's address when the request was multicast
 * (RFC 7252 §8.2, §8.2.1).
 */
import type { CoapOption } from '../message/types.js';
import { Opt } from '../options/registry.js';
import { segmentsOf, valuesOf } from './options.js';
import type { CoapUri } from './types.js';
import { defaultPort, hasDotSegment, hostFromAddress, removeDotSegments } from './types.js';

/**
 * The Location-Path and Location-Query values of a response, in order. One empty Location-Path
 * gives `path: []`, as it composes to the same URI as none.
 */
export function locationOf(options: readonly CoapOption[]): { path: string[]; query: string[] } {
  return { path: segmentsOf(options, Opt.LocationPath), query: valuesOf(options, Opt.LocationQuery) };
}

/**
 * The URI of a response's Location-* options, resolved against the request URI `base`
 * (RFC 7252 §5.10.7): scheme and authority come from the base; the path is always absolute, so
 * it and the query come from the options alone (RFC 3986 §5.2.2). `.` and `..` values, which
 * §5.10.7 forbids, are resolved as RFC 3986 §5.2.4 would rather than rejected.
 *
 * For a response to a multicast request pass its source as `responder`: the base URI's host
 * and port become that endpoint's (RFC 7252 §8.2, §8.2.1).
 *
 * @returns undefined when the response has no Location-Path and no Location-Query.
 * @example
 * ```ts
 * resolveLocation(parseUri('coap://[ff02::fd]/lights'), { address: 'fe80::1', port: 5683 }, options);
 * // e.g. coap://[fe80::1]/lights/4
 * ```
 */
export function resolveLocation(
  base: CoapUri,
  responder: { address: string; port: number } | undefined,
  options: readonly CoapOption[],
): CoapUri | undefined {
  const { path, query } = locationOf(options);
  if (path.length === 0 && query.length === 0 && !hasLocationOption(options)) return undefined;
  const authority =
    responder === undefined
      ? { host: base.host, hostKind: base.hostKind, port: base.port, explicitPort: base.explicitPort }
      : {
          ...hostFromAddress(responder.address),
          port: responder.port,
          explicitPort: responder.port !== defaultPort(base.scheme),
        };
  return {
    scheme: base.scheme,
    ...authority,
    path: hasDotSegment(path) ? removeDotSegments(path) : path,
    query,
  };
}

/** A lone empty Location-Path still means "here is a location": the path `/`. */
function hasLocationOption(options: readonly CoapOption[]): boolean {
  for (let i = 0; i < options.length; i++) {
    const n = options[i]!.number;
    if (n === Opt.LocationPath || n === Opt.LocationQuery) return true;
  }
  return false;
}
