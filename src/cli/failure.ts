/**
 * @module cli/failure
 * System errors (`ENETUNREACH`, `EADDRINUSE`, ...) and unexpected ones as the CLI reports them:
 * one line saying what failed, and a hint how to mend it (design.md §CLI contract). The stack
 * is for `--debug` or NODE_DEBUG=coap only.
 */
import { endpoint } from './output.js';

/** A Node.js system error: `code` like `ENETUNREACH`, usually with `syscall`. */
interface SystemError extends Error {
  code: string;
  syscall?: string;
  address?: string;
  port?: number;
}

const HINTS: Record<string, string> = {
  ENETUNREACH:
    'no route to that network: check --iface and the routes; an IPv6 group needs an interface with IPv6 multicast, which lo lacks on Linux',
  EHOSTUNREACH: 'the host cannot be reached: check the address and that the network is up',
  EADDRNOTAVAIL: 'this host has no such address: check --bind or --source',
  EADDRINUSE: 'another process uses this address and port: stop it, or choose another --port',
  EACCES: 'not permitted: a firewall rule, or a port below 1024 without the right to bind it',
  EPERM: 'not permitted: a firewall rule, or a port below 1024 without the right to bind it',
  EMSGSIZE: 'the message is too large for the path: try a smaller --block-size',
  ENOBUFS: 'the system is out of network buffers: try again later',
  ECONNREFUSED: 'nothing listens there',
  ENODEV: 'no such network interface: check --iface',
  EINVAL: 'the system refused the address: a link-local IPv6 address needs a zone, e.g. [fe80::1%25eth0]',
};

const VERBS: Record<string, string> = {
  send: 'cannot send to',
  bind: 'cannot bind',
  addMembership: 'cannot join',
  setMulticastInterface: 'cannot send multicast on',
};

function isSystemError(err: unknown): err is SystemError {
  const code = (err as { code?: unknown } | undefined)?.code;
  return err instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** The system error behind `err` (itself, or its cause), if any. */
export function systemErrorOf(err: unknown): SystemError | undefined {
  if (isSystemError(err)) return err;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return isSystemError(cause) ? cause : undefined;
}

/** The hint for a system error code, or undefined. */
export function systemHint(code: string): string | undefined {
  return HINTS[code];
}

/** Where a system error happened: its address, or the `ADDR:PORT` that ends its message. */
function placeOf(err: SystemError): string {
  if (err.address !== undefined) return endpoint({ address: err.address, port: err.port ?? 0 });
  // `send ENETUNREACH ff02::fd%lo:5683`
  const m = /\s(\S+):(\d+)$/.exec(err.message);
  return m ? endpoint({ address: m[1]!, port: Number(m[2]) }) : '';
}

/** One line for a system error: what failed, where, and the errno, with a hint. */
export function systemErrorLine(err: SystemError): { message: string; hint: string } {
  const verb = err.syscall !== undefined ? VERBS[err.syscall] : undefined;
  const place = placeOf(err);
  const what = verb ?? `${err.syscall ?? 'a system call'} failed${place ? ' for' : ''}`;
  return {
    message: `${what}${place ? ` ${place}` : ''}: ${err.code}`,
    hint: HINTS[err.code] ?? 'run again with --debug for details',
  };
}

/** The stack of `err` and of each cause, for `--debug`. */
export function stackOf(err: unknown): string {
  const out: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    out.push(depth === 0 ? String((e as Error).stack ?? e) : `caused by: ${String((e as Error).stack ?? e)}`);
    e = (e as { cause?: unknown }).cause;
  }
  return out.join('\n');
}
