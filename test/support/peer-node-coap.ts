/**
 * node-coap (the `coap` npm package, a devDependency) as an interop peer: servers that are
 * closed when the test ends, and requests on an agent of their own (never the global agent),
 * each bounded by a timeout.
 */
import dgram from 'node:dgram';
import * as coap from 'coap';

export type NodeCoapServer = coap.Server;
export type NodeCoapHandler = (req: coap.IncomingMessage, res: coap.OutgoingMessage) => void;

export interface NodeCoapServerOptions {
  /** The address to listen on: a loopback address, or `0.0.0.0` for a group member. */
  address: string;
  port: number;
  /** Join this group on `multicastInterface` (always given, so the join is pinned). */
  multicast?: { address: string; iface: string };
}

/** Starts a node-coap server; resolves once it is bound (and has joined its group). */
export function startNodeCoapServer(
  o: NodeCoapServerOptions,
  handler: NodeCoapHandler,
): Promise<coap.Server> {
  const server = coap.createServer(
    {
      type: 'udp4',
      ...(o.multicast
        ? { multicastAddress: o.multicast.address, multicastInterface: o.multicast.iface }
        : {}),
    },
    handler,
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, (err?: Error) => {
      server.off('error', reject);
      if (err) {
        server.close();
        reject(err);
      } else resolve(server);
    });
  });
}

/** Closes a node-coap server; never throws. */
export function closeNodeCoapServer(server: coap.Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      server.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** A node-coap group member with a unicast address of its own; see `startNodeCoapMember`. */
export interface NodeCoapMember {
  readonly server: coap.Server;
  close(): Promise<void>;
}

/**
 * A node-coap server that is a group member with its own unicast endpoint, as on a host of its
 * own: requests to the group arrive on a socket bound to the group address and joined on
 * `iface`; node-coap sees them as if they came in on its unicast socket and answers from that
 * socket, so every member answers from its own address (RFC 7252 §8.2). node-coap's own
 * `multicastAddress` needs a wildcard bind, and then all members on one host share one endpoint.
 */
export async function startNodeCoapMember(
  o: { unicast: string; port: number; group: string; iface: string },
  handler: NodeCoapHandler,
): Promise<NodeCoapMember> {
  const unicast = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const group = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const server = coap.createServer({ type: 'udp4' }, handler);
  const close = async () => {
    await closeNodeCoapServer(server);
    for (const s of [unicast, group]) {
      await new Promise<void>((resolve) => {
        try {
          s.close(() => resolve());
        } catch {
          resolve(); // not bound, or already closed
        }
      });
    }
  };
  try {
    await bindSocket(unicast, o.port, o.unicast);
    await bindSocket(group, o.port, o.group);
    group.addMembership(o.group, o.iface);
    group.on('message', (msg, rinfo) => unicast.emit('message', msg, rinfo));
    await new Promise<void>((resolve, reject) =>
      server.listen(unicast, (err?: Error) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { server, close };
}

function bindSocket(s: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

/** A response as the tests look at it. */
export interface NodeCoapResult {
  code: string;
  payload: Buffer;
  format: unknown;
  from: { address: string; port: number };
}

export interface NodeCoapRequest {
  hostname: string;
  port: number;
  pathname: string;
  query?: string;
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  confirmable?: boolean;
  payload?: string;
  format?: string;
  timeoutMs?: number;
}

/** Sends one request with node-coap on `agent` and resolves with the response. */
export function nodeCoapRequest(agent: coap.Agent, r: NodeCoapRequest): Promise<NodeCoapResult> {
  return new Promise((resolve, reject) => {
    const req = coap.request({
      hostname: r.hostname,
      port: r.port,
      pathname: r.pathname,
      ...(r.query !== undefined ? { query: r.query } : {}),
      method: r.method ?? 'GET',
      confirmable: r.confirmable ?? true,
      agent,
    });
    if (r.format !== undefined) req.setOption('Content-Format', r.format);
    const timer = setTimeout(
      () => reject(new Error(`node-coap: no response to ${r.method ?? 'GET'} ${r.pathname}`)),
      r.timeoutMs ?? 15_000,
    );
    req.on('response', (res: coap.IncomingMessage) => {
      clearTimeout(timer);
      const format = res.headers['Content-Format'];
      // Resolve outside the agent's handler: a request started inside it can throw.
      const result: NodeCoapResult = {
        code: String(res.code),
        payload: res.payload,
        format,
        from: { address: res.rsinfo.address, port: res.rsinfo.port },
      };
      setImmediate(() => resolve(result));
    });
    req.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(r.payload);
  });
}
