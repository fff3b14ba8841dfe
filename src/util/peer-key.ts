/**
 * @module util/peer-key
 * The one spelling of an endpoint as a map key (`address|port`), for the tables that are keyed
 * by peer: NSTART per server (RFC 7252 §4.7), responders of a group request, observers,
 * follow-ups. An IPv6 address never contains `|`, so the key is unambiguous.
 */

/** `address|port` of an endpoint. */
export function peerKey(a: { readonly address: string; readonly port: number }): string {
  return `${a.address}|${a.port}`;
}
