/**
 * libcoap's example programs as interop peers (Debian libcoap3-bin): `coap-server-notls` started
 * as a long-running peer, `coap-client-notls` run to completion. The server is started with
 * `-v 7` so that its debug log says when its endpoint is bound and its group joined.
 *
 * coap-client-notls has no interface flag: a multicast URI follows the route. Only send multicast
 * with it inside a namespace made by `netns.ts`, where lo is the only route.
 */
import { missingProgram, type Peer, type RunResult, runProgram, startPeer } from './peer-process.js';

export const LIBCOAP_CLIENT = 'coap-client-notls';
export const LIBCOAP_SERVER = 'coap-server-notls';

/** Why the libcoap peers cannot run here, or undefined when they can. */
export function libcoapMissing(): string | undefined {
  return missingProgram(LIBCOAP_SERVER) ?? missingProgram(LIBCOAP_CLIENT);
}

export interface LibcoapServerOptions {
  /** `-A`: the address to bind; `0.0.0.0` for a group member (a unicast bind receives no multicast). */
  address: string;
  port: number;
  /** `-g`: a group to join, with `-G` the interface name. */
  group?: { address: string; ifname: string };
  /** How long to wait for the server to be ready, ms. */
  timeoutMs?: number;
}

/** Starts coap-server-notls and resolves once it has bound its UDP endpoint (and joined its group). */
export function startLibcoapServer(o: LibcoapServerOptions): Promise<Peer> {
  const args = ['-A', o.address, '-p', String(o.port), '-v', '7'];
  if (o.group) args.push('-g', o.group.address, '-G', o.group.ifname);
  const ready = o.group ? /added mcast group/ : /created UDP\s+endpoint/;
  return startPeer(LIBCOAP_SERVER, args, { ready, timeoutMs: o.timeoutMs ?? 10_000 });
}

/** Runs coap-client-notls with `args`; killed with SIGKILL after `timeoutMs`. */
export function libcoapClient(args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return runProgram(LIBCOAP_CLIENT, args, timeoutMs);
}
