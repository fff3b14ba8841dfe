/**
 * @module transport/interfaces
 * Turns an interface given by the user (`lo`, `eth0`, `127.0.0.1`, `::%veth0`) into the forms
 * `dgram` wants for multicast: an IPv4 address, and `::%name` for IPv6 (RFC 7390 §2.2 needs an
 * interface for link-local scope). Multicast is never sent without one (design.md).
 */
import { networkInterfaces } from 'node:os';
import { TransportError } from '../errors.js';
import { ipFamily, splitZone } from '../util/ip.js';

/** A resolved interface. */
export interface ResolvedInterface {
  /** Interface name when known (`lo`). */
  readonly name: string | undefined;
  /** IPv4 address to join and send IPv4 groups on. */
  readonly ipv4: string | undefined;
  /** `::%name` for IPv6 groups. */
  readonly ipv6: string | undefined;
}

function known(): string {
  return Object.keys(networkInterfaces()).join(', ') || '(none)';
}

/**
 * Resolves an interface name or address.
 * @throws TransportError `ERR_COAP_UNKNOWN_INTERFACE` naming the interfaces that exist.
 */
export function resolveInterface(spec: string): ResolvedInterface {
  const ifaces = networkInterfaces();
  const family = ipFamily(spec);
  if (family === 4) {
    for (const [name, addrs] of Object.entries(ifaces)) {
      if (addrs?.some((a) => a.family === 'IPv4' && a.address === spec)) {
        const v6 = addrs.some((a) => a.family === 'IPv6');
        return { name, ipv4: spec, ipv6: v6 ? `::%${name}` : undefined };
      }
    }
    throw new TransportError(
      'ERR_COAP_UNKNOWN_INTERFACE',
      `no interface has the address ${spec}; give an interface name or one of its addresses (interfaces: ${known()})`,
    );
  }
  const name = family === 6 ? splitZone(spec).zone : spec;
  if (name === undefined || name === '') {
    throw new TransportError(
      'ERR_COAP_UNKNOWN_INTERFACE',
      `IPv6 interface ${spec} has no zone; write it as ::%NAME (interfaces: ${known()})`,
    );
  }
  const addrs = ifaces[name];
  if (addrs === undefined) {
    throw new TransportError(
      'ERR_COAP_UNKNOWN_INTERFACE',
      `no network interface ${JSON.stringify(name)}; use one of: ${known()}`,
    );
  }
  const v4 = addrs.find((a) => a.family === 'IPv4')?.address;
  const v6 = addrs.some((a) => a.family === 'IPv6') ? `::%${name}` : undefined;
  return { name, ipv4: v4, ipv6: v6 };
}
