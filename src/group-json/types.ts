/**
 * @module group-json/types
 * The values that `application/coap-group+json` documents decode to: group membership objects
 * and the index-to-membership collection (RFC 7390 §2.6.2.1, §2.6.2.4).
 */

/**
 * The `"a"` member: an IP multicast address with an optional port (RFC 7390 §2.6.2.1,
 * `group-address`). `address` is canonical: dotted decimal for IPv4, RFC 5952 text (lower case,
 * no brackets, no zone) for IPv6.
 */
export interface GroupAddress {
  address: string;
  family: 4 | 6;
  /** Undefined when the text had no port; the user of the codec applies 5683 (R36). */
  port: number | undefined;
}

/** The `"n"` member: a host name with an optional port (RFC 7390 §2.6.2.1, `group-name`). */
export interface GroupName {
  /** Lower case, without a trailing dot. */
  host: string;
  /** Undefined when the text had no port; DNS SRV/DNS-SD or 5683 then apply (RFC 7390 §2.6.2.1). */
  port: number | undefined;
}

/**
 * One group membership object (RFC 7390 §2.6.2.1). At least one of `n` and `a` is present
 * (R35); when both are, `a` is the one used (RFC 7390 §2.6.2.2).
 */
export interface Membership {
  n?: GroupName;
  a?: GroupAddress;
}

/**
 * The Group Configuration resource as a whole (RFC 7390 §2.6.2.4): index to membership.
 * Indexes are lower case, because RFC 7390 §2.6.2.2 makes them case-insensitive.
 */
export type MembershipCollection = Map<string, Membership>;
