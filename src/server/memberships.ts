/**
 * @module server/memberships
 * The server's group memberships: All CoAP Nodes on start (RFC 7390 §2.2, R4; a default group
 * that cannot be joined is a warning, not a failure), and the groups the application and the
 * group configuration resource join and leave. The transport counts references per (group,
 * port, interface) (design.md §Multicast on Node); this table counts the joins made here, so
 * `leave()` only gives up references `join()` took.
 */
import { ALL_COAP_NODES_IPV4, ALL_COAP_NODES_IPV6_LINK, ALL_COAP_NODES_IPV6_SITE } from '../constants.js';
import type { ResolvedInterface } from '../transport/interfaces.js';
import type { JoinedGroup, Transport } from '../transport/types.js';
import { ipFamily, splitZone } from '../util/ip.js';
import { type GroupSpec, parseGroupSpec } from './groups.js';

/** The interface argument for joining `group`: its zone, else `iface`'s address of its family. */
export function ifaceFor(group: string, iface: ResolvedInterface | undefined): string | undefined {
  const zone = splitZone(group).zone;
  if (zone) return `::%${zone}`;
  return ipFamily(group) === 4 ? iface?.ipv4 : iface?.ipv6;
}

/** A membership as the transport counts it: group, port and interface (design.md §Multicast on Node). */
function membershipKey(group: string, port: number, iface: string | undefined): string {
  return `${group}|${port}|${iface ?? ''}`;
}

/** Joins and leaves on one transport, counted. */
export class Memberships {
  readonly #transport: Transport;
  readonly #iface: ResolvedInterface | undefined;
  readonly #port: number;
  /** Joins held by `join()`, by group|port|interface. */
  readonly #joins = new Map<string, number>();

  constructor(transport: Transport, iface: ResolvedInterface | undefined, port: number) {
    this.#transport = transport;
    this.#iface = iface;
    this.#port = port;
  }

  /** Joins All CoAP Nodes for each address family bound; a failure becomes a warning. */
  async joinDefaults(warnings: string[]): Promise<void> {
    const t = this.#transport;
    const iface = this.#iface;
    const families = new Set(t.sockets.map((s) => s.family));
    const wanted: Array<{ group: string; iface: string | undefined }> = [];
    if (families.has(4)) wanted.push({ group: ALL_COAP_NODES_IPV4, iface: iface?.ipv4 });
    if (families.has(6)) {
      wanted.push({ group: ALL_COAP_NODES_IPV6_LINK, iface: iface?.ipv6 });
      wanted.push({ group: ALL_COAP_NODES_IPV6_SITE, iface: iface?.ipv6 });
    }
    for (const w of wanted) {
      try {
        await t.join(w.group, this.#port, w.iface);
      } catch (err) {
        warnings.push(`not joined ${w.group}: ${(err as Error).message}`);
      }
    }
  }

  /** The interface argument for joining `group`. */
  ifaceFor(group: string): string | undefined {
    return ifaceFor(group, this.#iface);
  }

  /** Joins a group (one more reference). */
  async join(spec: GroupSpec): Promise<JoinedGroup> {
    const g = parseGroupSpec(spec, this.#port);
    const iface = g.iface ?? this.ifaceFor(g.group);
    await this.#transport.join(g.group, g.port, iface);
    const key = membershipKey(g.group, g.port, iface);
    this.#joins.set(key, (this.#joins.get(key) ?? 0) + 1);
    return { group: g.group, port: g.port, iface: iface ?? '', refs: 1 };
  }

  /**
   * Gives up one reference taken by `join()`; nothing when none is held. Returns the group's
   * address when this node holds no membership of it any more.
   */
  async leave(spec: GroupSpec): Promise<string | undefined> {
    const g = parseGroupSpec(spec, this.#port);
    const iface = g.iface ?? this.ifaceFor(g.group);
    const key = membershipKey(g.group, g.port, iface);
    const n = this.#joins.get(key);
    if (n === undefined) return undefined;
    if (n <= 1) this.#joins.delete(key);
    else this.#joins.set(key, n - 1);
    await this.#transport.leave(g.group, g.port, iface);
    return this.#transport.memberships().some((m) => m.group === g.group) ? undefined : g.group;
  }
}
