/**
 * @module console/state
 * What the console knows, shared by its views: the nodes (found by a multicast discovery or in
 * the resource directory, RFC 9176), their links and answer delays, and each node's
 * memberships as last read from its `/coap-group` (RFC 7390 §2.6.2). One instance per page.
 */
import type { Link } from './links.js';

/** A node, keyed by `address:port`. */
export interface KnownNode {
  /** `127.0.0.2:5683`. */
  readonly key: string;
  /** `coap://127.0.0.2`. */
  readonly uri: string;
  links: Link[];
  /** ms to its discovery answer, when it answered one. */
  ms?: number;
  multicast: boolean;
  /** Its endpoint name in the resource directory. */
  ep?: string;
  sector?: string;
}

/** A membership of a node's `/coap-group` (application/coap-group+json). */
export interface Membership {
  readonly index: string;
  readonly n?: string;
  readonly a?: string;
}

/** The console's state. */
export class ConsoleState {
  readonly nodes = new Map<string, KnownNode>();
  readonly memberships = new Map<string, Membership[]>();

  /** The node `key`, added when new. */
  node(key: string): KnownNode {
    let n = this.nodes.get(key);
    if (n === undefined) {
      n = { key, uri: `coap://${key.replace(/:5683$/, '')}`, links: [], multicast: false };
      this.nodes.set(key, n);
    }
    return n;
  }

  /** The nodes, by address. */
  sorted(): KnownNode[] {
    return [...this.nodes.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  /** The nodes whose memberships name the group address `host` (`239.255.0.3`), if read. */
  membersOf(host: string, port: number): KnownNode[] | undefined {
    if (this.memberships.size === 0) return undefined;
    const same = (a: string) => {
      const g = hostPort(a);
      return g.host.toLowerCase() === host.toLowerCase() && g.port === port;
    };
    return this.sorted().filter((n) =>
      (this.memberships.get(n.key) ?? []).some((m) => m.a !== undefined && same(m.a)),
    );
  }
}

/** Orders `127.0.0.10:5683` after `127.0.0.9:5683`. */
export function compareKeys(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** `239.255.0.3:5683`, `239.255.0.3`, `[ff05::3]:5683` or `ff05::3` as host and port. */
export function hostPort(text: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6 !== null) return { host: v6[1]!, port: v6[2] === undefined ? 5683 : Number(v6[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4 !== null) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: text, port: 5683 };
}
