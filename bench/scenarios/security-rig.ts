// The rig of the security bench (bench/scenarios/security.ts): three servers and a client on a
// memory network of their own, plain or protected, with a runtime whose zero-delay timers run on
// setImmediate, a tap on the client's datagrams, and the two requests measured (a group GET to
// the 3 members, a unicast GET to the first).
import {
  CoapClient,
  CoapServer,
  MemoryNetwork,
  type MemoryTransport,
  OscoreClientSecurity,
  type OscoreKeyring,
  type OscoreServerOptions,
  OscoreServerSecurity,
  type Runtime,
  systemRuntime,
  type TimerHandle,
} from '../../src/index.js';

export const GROUP = '224.0.1.187';
export const CLIENT = '192.0.2.1';
export const MEMBERS = ['192.0.2.2', '192.0.2.3', '192.0.2.4'] as const;
export const GROUP_URI = `coap://${GROUP}/light`;
export const UNICAST_URI = `coap://${MEMBERS[0]}/light`;
export const PAYLOAD = '{"state":"on"}';
/** The client's collection window: only a lost response would make a group request wait for it. */
export const GROUP_WINDOW_MS = 250;
/** A unicast request that needs longer has failed (nothing is lost on the memory network). */
export const TIMEOUT_MS = 2000;

/**
 * The system clock and timers, except that a zero-delay timer (each delivery of the memory
 * network, a Leisure of 0) runs on setImmediate: Node's setTimeout waits at least 1 ms, so a
 * round trip would measure the timer granularity instead of the CPU.
 */
export function immediateRuntime(): Runtime {
  const immediates = new WeakSet<object>();
  return {
    now: systemRuntime.now,
    random: systemRuntime.random,
    randomBytes: systemRuntime.randomBytes,
    randomInt: systemRuntime.randomInt,
    setTimeout(fn, ms) {
      if (ms > 0) return setTimeout(fn, ms);
      const h = setImmediate(fn);
      immediates.add(h);
      return h as unknown as TimerHandle;
    },
    clearTimeout(h) {
      if (immediates.has(h as object)) clearImmediate(h as unknown as NodeJS.Immediate);
      else clearTimeout(h as NodeJS.Timeout);
    },
  };
}

/** The datagrams a client sent and received while `on`. */
export interface Wire {
  on: boolean;
  readonly sent: Buffer[];
  readonly received: Buffer[];
}

/** Servers at MEMBERS (protected when given a keyring) and a client at CLIENT on a network of their own. */
export interface Rig {
  readonly client: CoapClient;
  readonly wire: Wire;
  close(): Promise<void>;
}

export async function makeRig(
  runtime: Runtime,
  servers: readonly (OscoreKeyring | undefined)[],
  clientKeyring: OscoreKeyring | undefined,
  serverOptions: Pick<OscoreServerOptions, 'groupResponses'> = {},
): Promise<Rig> {
  const net = new MemoryNetwork({ runtime });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    for (const [i, keyring] of servers.entries()) {
      const transport = net.createTransport({
        bind: [{ address: MEMBERS[i]!, port: 5683 }],
        ipv4Interface: 'mem0',
      });
      const server = new CoapServer({
        transport,
        runtime,
        leisure: 0,
        discovery: false,
        ...(keyring ? { security: new OscoreServerSecurity(keyring, { runtime, ...serverOptions }) } : {}),
      });
      closers.push(() => server.close());
      server
        .resource('/light', { multicast: true, ...(keyring ? { protected: true } : {}) })
        .get(() => ({ payload: PAYLOAD }));
      await server.listen();
    }
    const transport = net.createTransport({
      bind: [{ address: CLIENT, port: 40000 }],
      ipv4Interface: 'mem0',
    });
    const wire = tap(transport);
    const client = await CoapClient.create({
      transport,
      runtime,
      ...(clientKeyring ? { security: new OscoreClientSecurity(clientKeyring) } : {}),
    });
    closers.push(() => client.close());
    return { client, wire, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Records the client's datagrams while `wire.on`; must be called before the client takes the transport. */
export function tap(t: MemoryTransport): Wire {
  const wire: Wire = { on: false, sent: [], received: [] };
  const send = t.send.bind(t);
  t.send = (data, ...rest) => {
    if (wire.on) wire.sent.push(Buffer.from(data));
    send(data, ...rest);
  };
  const setReceiver = t.setReceiver.bind(t);
  t.setReceiver = (receiver) =>
    setReceiver((d) => {
      if (wire.on) wire.received.push(Buffer.from(d.data));
      receiver(d);
    });
  return wire;
}

/** A group GET: true when each of the 3 members answered 2.05 with the payload (verified, if protected). */
export async function groupGet(client: CoapClient): Promise<boolean> {
  const rs = await client.group({ uri: GROUP_URI, window: GROUP_WINDOW_MS, limit: MEMBERS.length }).collect();
  const from = new Set(rs.map((r) => r.source.address));
  return (
    rs.length === MEMBERS.length &&
    from.size === MEMBERS.length &&
    rs.every((r) => r.code === 0x45 && r.text() === PAYLOAD)
  );
}

export async function unicastGet(client: CoapClient): Promise<boolean> {
  try {
    const r = await client.request({ uri: UNICAST_URI, timeout: TIMEOUT_MS });
    return r.code === 0x45 && r.text() === PAYLOAD;
  } catch {
    return false;
  }
}
