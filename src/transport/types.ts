/**
 * @module transport/types
 * The datagram contract shared by the UDP and memory transports (design.md §Multicast on Node).
 * A datagram says which local socket received it, and whether that socket is a group socket:
 * that flag is how the stack tells a multicast request from a unicast one (RFC 7252 §8.1).
 */

/** A remote or local address and port. */
export interface Address {
  readonly address: string;
  readonly port: number;
}

/** A unicast socket of a transport. Responses leave from one of these (RFC 7252 §8.2). */
export interface LocalSocket extends Address {
  readonly family: 4 | 6;
}

/** One received datagram. */
export interface Datagram {
  readonly data: Buffer;
  /** Where it came from. */
  readonly remote: Address;
  /** The unicast socket that should answer it: the receiving socket, or for a group datagram the unicast socket of the same family. */
  readonly local: LocalSocket;
  /** True when it arrived on a group socket, i.e. it was sent to a multicast address. */
  readonly multicast: boolean;
  /** The group address it was sent to, for multicast datagrams. */
  readonly group: string | undefined;
}

/** One group membership held by a transport. */
export interface JoinedGroup {
  readonly group: string;
  readonly port: number;
  /** The interface the group is joined on: an IPv4 address, or `::%name` / a zone name for IPv6. */
  readonly iface: string;
  /** How many joins hold it (All CoAP Nodes, /coap-group entries and the application share one socket). */
  readonly refs: number;
}

/** Multicast sending options of a transport (RFC 7390 §2.8, §5.4.2). */
export interface MulticastOptions {
  /** IPv4 interface address (e.g. `127.0.0.1`) used to send and join IPv4 groups. */
  readonly ipv4Interface?: string | undefined;
  /** IPv6 interface, `::%name` form (e.g. `::%veth0`), used to send and join IPv6 groups. */
  readonly ipv6Interface?: string | undefined;
  /** IPv4 TTL and IPv6 hop limit of multicast datagrams; default 1 (RFC 7390 §5.4.2). */
  readonly hops?: number | undefined;
  /** Whether this host's own group members see our multicast datagrams; default true. */
  readonly loopback?: boolean | undefined;
}

/** Callback for a send's outcome; `null` on success. */
export type SendCallback = (err: Error | null) => void;

/** Datagrams in and out, with group membership. */
export interface Transport {
  /** The unicast sockets, in bind order. */
  readonly sockets: readonly LocalSocket[];
  /** Installs the one receiver of every datagram (the messenger). */
  setReceiver(receiver: (datagram: Datagram) => void): void;
  /**
   * Sends a datagram from `via` (default: the first socket of the destination's family).
   * Multicast destinations need the family's multicast interface to be configured; otherwise the
   * send fails with `ERR_COAP_NO_MULTICAST_INTERFACE` rather than follow the default route.
   */
  send(data: Buffer, address: string, port: number, via?: LocalSocket, callback?: SendCallback): void;
  /** Joins `group` on `port`, reference-counted per (group, port, interface). */
  join(group: string, port: number, iface?: string): Promise<void>;
  /** Drops one reference; the membership (and its socket) goes when none is left. */
  leave(group: string, port: number, iface?: string): Promise<void>;
  /** The memberships held now. */
  memberships(): JoinedGroup[];
  /** Closes every socket. Idempotent. */
  close(): Promise<void>;
}
