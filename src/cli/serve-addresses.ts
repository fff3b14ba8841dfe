/**
 * @module cli/serve-addresses
 * The unicast addresses `serve` binds when no `--bind` is given: every address of the chosen
 * interfaces, link-local ones included with their zone, so that a request on ff02::fd can be
 * answered from an address the requester reaches on that link (RFC 7252 §8.2, RFC 7390 §2.5).
 * Addresses come and go (DHCP, SLAAC, a cable plugged in), so the interfaces are looked at again
 * every few seconds: a new address gets its own socket, one that went away loses its socket,
 * without a restart. The sockets bound to it stay specific (never the wildcard, design.md
 * §Multicast on Node).
 */
import { networkInterfaces } from 'node:os';
import type { UdpTransport } from '../entry/transport.js';
import type { LocalSocket } from '../index.js';

/** How often the interfaces are looked at again, ms. */
export const ADDRESS_POLL_MS = 2000;

/** True for fe80::/10 (RFC 4291 §2.5.6). */
function linkLocal(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/**
 * The addresses to bind on the interfaces `names`, in a stable order: IPv4 first, then routable
 * IPv6, then link-local IPv6 as `fe80::...%name`.
 */
export function interfaceAddresses(names: readonly string[]): string[] {
  const table = networkInterfaces();
  const v4: string[] = [];
  const v6: string[] = [];
  const ll: string[] = [];
  for (const name of names) {
    for (const a of table[name] ?? []) {
      if (a.family === 'IPv4') v4.push(a.address);
      else if (linkLocal(a.address)) ll.push(`${a.address}%${name}`);
      else v6.push(a.address);
    }
  }
  return [...new Set([...v4, ...v6, ...ll])];
}

/** What the watcher tells the user. */
export type Note = (line: string) => void;

/** `coap://127.0.0.1:5683`, `coap://[fe80::1%25eth0]:5683` (RFC 6874 zone in a URI). */
export function socketUri(s: { address: string; port: number }): string {
  return s.address.includes(':')
    ? `coap://[${s.address.replace('%', '%25')}]:${s.port}`
    : `coap://${s.address}:${s.port}`;
}

/**
 * Keeps the transport's unicast sockets in step with the addresses of `names`, polling every
 * `everyMs`. Binding an address can fail for a while (IPv6 duplicate address detection): it is
 * tried again at the next look, and the failure is told once. Returns the function that stops it.
 */
export function watchAddresses(
  transport: UdpTransport,
  names: readonly string[],
  port: number,
  note: Note,
  everyMs = ADDRESS_POLL_MS,
): () => void {
  const told = new Set<string>();
  let busy = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      const want = new Set(interfaceAddresses(names));
      const have = new Map<string, LocalSocket>(transport.sockets.map((s) => [s.address, s]));
      for (const [address, s] of have) {
        if (want.has(address)) continue;
        await transport.removeSocket(s);
        note(`address ${address} went away: no longer serving ${socketUri(s)}`);
      }
      for (const address of want) {
        if (have.has(address)) continue;
        try {
          const s = await transport.addSocket({ address, port });
          told.delete(address);
          note(`address ${address} appeared: now also serving ${socketUri(s)}`);
        } catch (err) {
          if (!told.has(address))
            note(`address ${address} appeared but cannot be bound yet: ${(err as Error).message}`);
          told.add(address);
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void look().catch(() => {}), everyMs);
  return () => clearInterval(timer);
}
