/**
 * @module oscore/endpoint/keyring
 * A node's security material, as the endpoint layer uses it: RFC 8613 Security Contexts, each
 * optionally bound to the peer it protects requests to (RFC 8613 §3, §5.2 leave the choice of
 * context to the application), and Group OSCORE contexts with the roster of members whose
 * credentials are known, so that a Recipient Context is made on first contact from a known
 * member (draft-ietf-core-oscore-groupcomm §2.6.1, §3.2) and never for anyone else. Members'
 * configured unicast addresses let a client protect what it sends there for that member in the
 * pairwise mode (draft §8; the draft leaves address discovery open). Source addresses are not
 * authenticated, so none is learned from traffic.
 * Inspecting or serializing a keyring shows IDs only: keys never reach a log.
 */
import { inspect } from 'node:util';
import { InvalidArgumentError } from '../../errors.js';
import type { Address } from '../../transport/types.js';
import { canonicalIPv6, ipFamily } from '../../util/ip.js';
import { type ContextResolver, type SecurityContext, SecurityContextRegistry } from '../context.js';
import type { GroupSecurityContext } from '../group/context.js';

/** Where a context applies: an address and, optionally, a port. */
export interface Destination {
  readonly address: string;
  /** Any port when absent. */
  readonly port?: number;
}

/** One RFC 8613 context. */
export interface OscoreEntry {
  readonly context: SecurityContext;
  /** The server requests go to; absent: the fallback for any unicast destination (client role). */
  readonly peer: Destination | undefined;
  readonly name: string | undefined;
}

/** One Group OSCORE group this node is a member of. */
export interface GroupEntry {
  readonly context: GroupSecurityContext;
  /** Known members' credentials by Sender ID (hex), this node excluded. */
  readonly members: ReadonlyMap<string, Buffer>;
  /** Configured unicast addresses of members, by Sender ID (hex). */
  readonly memberAddresses: ReadonlyMap<string, Destination>;
  /** The group addresses requests are protected for with this context (client role). */
  readonly addresses: readonly Destination[];
  readonly name: string | undefined;
}

function normal(address: string): string {
  return ipFamily(address) === 6 ? canonicalIPv6(address) : address;
}

/** True when `dest` is the address `d` names, on its port or, without one, on any port. */
export function matches(d: Destination, dest: Address): boolean {
  return normal(d.address) === normal(dest.address) && (d.port === undefined || d.port === dest.port);
}

/** A group member reachable at a unicast address. */
export interface MemberAt {
  readonly group: GroupEntry;
  /** The member's Sender ID (this node's Recipient ID for it). */
  readonly kid: Buffer;
}

/**
 * The contexts of one node. Share one keyring between a node's client and server: a context's
 * Sender Sequence Number must be one counter whatever role uses it (RFC 8613 §7.2).
 *
 * @example
 * ```ts
 * const keyring = loadOscoreConfig('/etc/coap/node.json');
 * const server = new CoapServer({ security: new OscoreServerSecurity(keyring) });
 * const client = await CoapClient.create({ security: new OscoreClientSecurity(keyring) });
 * ```
 */
export class OscoreKeyring {
  readonly #oscore: OscoreEntry[] = [];
  readonly #registry = new SecurityContextRegistry();
  readonly #groups = new Map<string, GroupEntry>();
  /** Configured member addresses, by `address|port` (`address|*` when any port). */
  readonly #configured = new Map<string, MemberAt>();

  /**
   * Adds an RFC 8613 context. A server holds one per client, none of them with a `peer`; for
   * the client role, a context without `peer` is the fallback only when it is the only one.
   * @throws InvalidArgumentError for a second context with the same Recipient ID (and ID Context).
   */
  addOscore(context: SecurityContext, options: { peer?: Destination; name?: string } = {}): this {
    this.#registry.add(context);
    this.#oscore.push({ context, peer: options.peer, name: options.name });
    return this;
  }

  /**
   * Adds a Group OSCORE context and the credentials of its members (by Sender ID).
   * @throws InvalidArgumentError for a Group ID already present.
   */
  addGroup(
    context: GroupSecurityContext,
    options: {
      members: Iterable<{
        readonly id: Buffer;
        readonly credential: Buffer;
        /** Where the member takes unicast requests (pairwise mode). */
        readonly address?: Destination;
      }>;
      addresses?: readonly Destination[];
      name?: string;
    },
  ): this {
    const gid = context.common.idContext.toString('hex');
    if (this.#groups.has(gid)) throw new InvalidArgumentError(`a group with Group ID ${gid} exists`);
    const members = new Map<string, Buffer>();
    const memberAddresses = new Map<string, Destination>();
    for (const m of options.members) {
      if (m.id.equals(context.sender.id)) continue;
      members.set(m.id.toString('hex'), Buffer.from(m.credential));
      if (m.address !== undefined) memberAddresses.set(m.id.toString('hex'), m.address);
    }
    const entry: GroupEntry = {
      context,
      members,
      memberAddresses,
      addresses: [...(options.addresses ?? [])],
      name: options.name,
    };
    this.#groups.set(gid, entry);
    for (const [kid, d] of memberAddresses) {
      const key = `${normal(d.address)}|${d.port ?? '*'}`;
      // The first group to name an address keeps it, as a scan in insertion order would.
      if (!this.#configured.has(key))
        this.#configured.set(key, { group: entry, kid: Buffer.from(kid, 'hex') });
    }
    return this;
  }

  /**
   * The context for unicast requests to `dest`: the one bound to it, else (unless
   * `fallback: false`) the one without a peer.
   */
  oscoreFor(dest: Address, options: { fallback?: boolean } = {}): SecurityContext | undefined {
    let fallback: SecurityContext | undefined;
    let fallbacks = 0;
    for (const e of this.#oscore) {
      if (e.peer !== undefined) {
        if (matches(e.peer, dest)) return e.context;
      } else if (fallbacks++ === 0) fallback = e.context;
    }
    // Several contexts without `peer` (a server's clients): none is a safe guess for a request.
    return options.fallback === false || fallbacks !== 1 ? undefined : fallback;
  }

  /**
   * The group member configured at unicast address `dest` (`members[].address`), if any.
   */
  memberAt(dest: Address): MemberAt | undefined {
    if (this.#configured.size === 0) return undefined;
    const address = normal(dest.address);
    const found = this.#configured.get(`${address}|${dest.port}`) ?? this.#configured.get(`${address}|*`);
    if (found !== undefined) return found;
    // A configured link-local address without a zone matches it on any interface (RFC 6874).
    const zone = address.indexOf('%');
    if (zone < 0) return undefined;
    const bare = address.slice(0, zone);
    return this.#configured.get(`${bare}|${dest.port}`) ?? this.#configured.get(`${bare}|*`);
  }

  /** Finds a server-side context by 'kid' and 'kid context' (RFC 8613 §8.2 step 2). */
  get resolve(): ContextResolver {
    return this.#registry.resolve;
  }

  /** The group whose addresses include `dest`, for group requests. */
  groupFor(dest: Address): GroupEntry | undefined {
    for (const g of this.#groups.values()) if (g.addresses.some((d) => matches(d, dest))) return g;
    return undefined;
  }

  /** The group with this Group ID ('kid context'). */
  groupById(gid: Buffer): GroupEntry | undefined {
    return this.#groups.get(gid.toString('hex'));
  }

  /**
   * Makes the Recipient Context of member `kid` if its credential is known and it has none
   * yet. Returns true when it was made now, so a caller whose message then fails verification
   * can remove it again (draft §2.6.1.1: that leaves no trace). Unknown IDs get nothing.
   */
  ensureRecipient(group: GroupEntry, kid: Buffer): boolean {
    const ctx = group.context;
    if (ctx.recipient(kid) !== undefined) return false;
    const credential = group.members.get(kid.toString('hex'));
    if (credential === undefined) return false;
    ctx.addRecipient(kid, credential);
    return true;
  }

  /** Every RFC 8613 context. */
  get oscoreEntries(): readonly OscoreEntry[] {
    return this.#oscore;
  }

  /** Every group. */
  get groupEntries(): readonly GroupEntry[] {
    return [...this.#groups.values()];
  }

  /**
   * groupcomm-bis §3.1.5: DEFAULT_LEISURE is 20 s when a group uses the group mode, 13 s when
   * it uses only the pairwise mode; the largest over this node's groups, undefined without groups.
   */
  get defaultLeisure(): number | undefined {
    if (this.#groups.size === 0) return undefined;
    return Math.max(...[...this.#groups.values()].map(groupLeisure));
  }

  /** IDs and names only; never a key. */
  toJSON(): object {
    return {
      oscore: this.#oscore.map((e) => ({
        name: e.name,
        peer: e.peer,
        senderId: e.context.sender.id.toString('hex'),
        recipientId: e.context.recipient.id.toString('hex'),
      })),
      group: [...this.#groups.values()].map((g) => ({
        name: g.name,
        groupId: g.context.common.idContext.toString('hex'),
        senderId: g.context.sender.id.toString('hex'),
        members: [...g.members.keys()],
      })),
    };
  }

  [inspect.custom](): string {
    return `OscoreKeyring ${JSON.stringify(this.toJSON())}`;
  }
}

/** groupcomm-bis §3.1.5: 20 s for a group that uses the group mode, 13 s for pairwise only. */
export function groupLeisure(group: GroupEntry): number {
  return group.context.common.groupEncryption !== undefined ? 20 : 13;
}
