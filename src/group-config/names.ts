/**
 * @module group-config/names
 * From a membership to the group it means (RFC 7390 §2.6.2.2): "a" whenever it is given; only
 * without it, "n" resolved through DNS. When resolution fails the endpoint "does not attempt
 * joining or listening to any multicast group", so the result is a reason, not an error. The
 * port is that of "a", else of "n", else 5683 (RFC 7390 §2.6.2.1); DNS SRV and DNS-SD port
 * lookup are not supported.
 */
import type { Resolver } from '../client/resolve.js';
import { membershipPort } from '../group-json/index.js';
import type { Membership } from '../group-json/types.js';
import type { Runtime, TimerHandle } from '../runtime.js';
import { canonicalIPv6, ipFamily, isMulticast } from '../util/ip.js';
import { reasonOf } from './errors.js';
import type { GroupTarget } from './membership-sync.js';

/** What a membership resolves to: a group to join, or why there is none. */
export type Resolution = { ok: true; target: GroupTarget } | { ok: false; reason: string };

/** The target of an entry with "a", without any lookup; undefined for a name-only entry. */
export function addressTarget(m: Membership): GroupTarget | undefined {
  return m.a === undefined ? undefined : { group: m.a.address, port: membershipPort(m) };
}

/**
 * Resolves the "n" of a name-only membership to the first multicast address the resolver gives.
 * Never rejects; gives up after `timeoutMs` so a slow DNS cannot hold a configuration request.
 */
export async function resolveMembership(
  m: Membership,
  resolver: Resolver,
  timeoutMs: number,
  runtime: Runtime,
): Promise<Resolution> {
  const direct = addressTarget(m);
  if (direct !== undefined) return { ok: true, target: direct };
  const host = m.n?.host ?? '';
  let timer: TimerHandle | undefined;
  try {
    const addresses = await Promise.race([
      resolver(host),
      new Promise<never>((_, reject) => {
        timer = runtime.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const group = addresses.find((a) => isMulticast(a));
    if (group === undefined) {
      const got = addresses.length === 0 ? 'no address' : `only ${addresses.slice(0, 3).join(', ')}`;
      return { ok: false, reason: `${host} resolves to ${got}, not a multicast address` };
    }
    const address = ipFamily(group) === 6 ? canonicalIPv6(group) : group;
    return { ok: true, target: { group: address, port: membershipPort(m) } };
  } catch (err) {
    return { ok: false, reason: `cannot resolve ${host}: ${reasonOf(err)}` };
  } finally {
    if (timer !== undefined) runtime.clearTimeout(timer);
  }
}
