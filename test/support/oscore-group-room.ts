/**
 * A room of Group OSCORE members on the memory network, for the endpoint tests: members 2..N+1
 * serve a protected multicast `/light` at 192.0.2.2.., member 1 is the client's key file.
 */
import type { GroupResponse } from '../../src/client/group.js';
import type { OscoreConfigFile } from '../../src/oscore/endpoint/generate.js';
import type { OscoreKeyring } from '../../src/oscore/endpoint/keyring.js';
import type { CoapServer } from '../../src/server/server.js';
import type { RequestSecurity } from '../../src/server/site.js';
import { group, keyringOf, type Storages } from '../fixtures/oscore-keys.js';
import { makeNet, type Net } from './oscore-net.js';
import type { Received } from './tap.js';

export const GROUP = { address: '224.0.1.187', port: 5683 };
export const URI = 'coap://224.0.1.187/light';

export interface Room {
  readonly n: Net;
  readonly files: OscoreConfigFile[];
  /** Members' keyrings (index 0 is member 2); replaced when a member restarts. */
  readonly keyrings: OscoreKeyring[];
  readonly servers: CoapServer[];
  readonly seen: Array<{ node: number; security: RequestSecurity | undefined }>;
  readonly atServers: Received[][];
  /** Next free host number for clients and raw endpoints. */
  next: number;
  /**
   * Restarts member `i` (1-based server number): a new server and keyring from the same key
   * file and Sequence Number storage (RFC 8613 Appendix B.1.1), so its replay windows are gone.
   */
  restart(i: number): Promise<void>;
}

export interface RoomOptions {
  leisure?: number;
  files?: OscoreConfigFile[];
  setup?: (s: CoapServer, i: number) => void;
  /** Echo challenges of first contacts (default on; see oscore-endpoint-group-echo.test.ts). */
  echo?: boolean;
  echoLifetimeMs?: number;
  /** Members answer group mode requests in the pairwise mode. */
  groupResponses?: 'request' | 'pairwise';
}

/** Members 2..N+1 serve /light (multicast, protected) at 192.0.2.2..; member 1 is the client. */
export async function room(servers: number, o: RoomOptions = {}): Promise<Room> {
  const n = makeNet(5);
  const files = o.files ?? group(servers + 1);
  const storages: Storages[] = [];
  const r: Room = {
    n,
    files,
    keyrings: [],
    servers: [],
    seen: [],
    atServers: [],
    next: 100,
    async restart(i) {
      await r.servers[i - 1]!.close();
      await start(i);
    },
  };
  const start = async (i: number) => {
    storages[i] ??= new Map();
    const k = keyringOf(files[i]!, storages[i]);
    const { server, log } = await n.server(k, {
      address: `192.0.2.${i + 1}`,
      ...(o.leisure !== undefined ? { leisure: o.leisure } : {}),
      oscore: {
        ...(o.echo !== undefined ? { echo: o.echo } : {}),
        ...(o.echoLifetimeMs !== undefined ? { echoLifetimeMs: o.echoLifetimeMs } : {}),
        ...(o.groupResponses !== undefined ? { groupResponses: o.groupResponses } : {}),
      },
    });
    r.keyrings[i - 1] = k;
    r.servers[i - 1] = server;
    r.atServers[i - 1] = log;
    server.resource('/light', { multicast: true, protected: true }).get((req) => {
      r.seen.push({ node: i, security: req.security });
      return { payload: `node${i}` };
    });
    o.setup?.(server, i);
  };
  for (let i = 1; i <= servers; i++) await start(i);
  return r;
}

export async function collect(r: Room, keyring: OscoreKeyring, window = 2000): Promise<GroupResponse[]> {
  const { client } = await r.n.client(keyring, `192.0.2.${r.next++}`);
  return r.n.rt.settle(client.group({ uri: URI, window }).collect());
}

export const texts = (rs: readonly GroupResponse[]) => rs.map((x) => x.text()).sort();

/** Sends `bytes` to the group from a raw endpoint and waits; returns what came back. */
export async function inject(r: Room, bytes: Buffer): Promise<number> {
  const { transport, log } = r.n.raw(`192.0.2.${r.next++}`);
  transport.send(bytes, GROUP.address, GROUP.port);
  await r.n.rt.advance(3000);
  return log.length;
}
