/**
 * @module client/resolve
 * Host names to addresses. A group may be named by a host name that resolves to a multicast
 * address (RFC 7390 §2.2); the resolver is injectable so tests need no DNS.
 */
import { lookup } from 'node:dns/promises';
import { ResolveError } from '../errors.js';
import { canonicalIPv6, ipFamily } from '../util/ip.js';

/** Resolves a host name to its addresses, preferred first. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system resolver (`getaddrinfo`: hosts file, then DNS). */
export const systemResolver: Resolver = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

/** An IP literal as is (IPv6 in canonical form); undefined for a name. */
export function literalAddress(host: string): string | undefined {
  const family = ipFamily(host);
  if (family === 4) return host;
  if (family === 6) return canonicalIPv6(host);
  return undefined;
}

/** An IP literal as is (IPv6 in canonical form); a name through `resolver`. */
export async function resolveHost(host: string, resolver: Resolver): Promise<string> {
  const literal = literalAddress(host);
  if (literal !== undefined) return literal;
  let addrs: string[];
  try {
    addrs = await resolver(host);
  } catch (err) {
    throw new ResolveError(
      `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const first = addrs[0];
  if (first === undefined) throw new ResolveError(`cannot resolve ${host}: no address`);
  return ipFamily(first) === 6 ? canonicalIPv6(first) : first;
}
