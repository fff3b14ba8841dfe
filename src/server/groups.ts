/**
 * @module server/groups
 * Group specifications (`224.0.1.187`, `[ff02::fd%eth0]:5683`) and the default interface of a
 * server: the one that owns its first bind address, with 127/8 mapped to loopback (RFC 7390 §2.2).
 */
import { COAP_PORT } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import { type ResolvedInterface, resolveInterface } from '../transport/interfaces.js';
import { ipFamily, isLoopback, isMulticast } from '../util/ip.js';

/** A group to join: `224.0.1.187`, `[ff02::fd%eth0]:5683`, or an object. */
export type GroupSpec = string | { group: string; port?: number; iface?: string };

/** Parses a group spec into address, port and optional zone-derived interface. */
export function parseGroupSpec(
  spec: GroupSpec,
  defaultPort = COAP_PORT,
): { group: string; port: number; iface?: string } {
  if (typeof spec !== 'string') {
    if (!isMulticast(spec.group)) throw new InvalidArgumentError(`${spec.group} is not a multicast address`);
    return {
      group: spec.group,
      port: spec.port ?? defaultPort,
      ...(spec.iface ? { iface: spec.iface } : {}),
    };
  }
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec) ??
    /^([^:]+)(?::(\d+))?$/.exec(spec) ?? [spec, spec, undefined];
  const group = (m[1] ?? '').replace('%25', '%');
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (ipFamily(group) === 0 || !isMulticast(group)) {
    throw new InvalidArgumentError(
      `${spec} is not a multicast address: give e.g. 224.0.1.187, 239.1.2.3:5683 or [ff05::fd]`,
    );
  }
  if (!(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(`port ${port} of ${spec} is outside 1-65535`);
  return { group, port };
}

export /** The interface owning `address`; loopback addresses (127/8) map to the loopback interface. */
function defaultInterface(address: string): ResolvedInterface | undefined {
  try {
    return resolveInterface(isLoopback(address) ? (ipFamily(address) === 4 ? '127.0.0.1' : 'lo') : address);
  } catch {
    return undefined;
  }
}
