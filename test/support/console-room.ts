/**
 * A room for the console's tests: N nodes on 127.0.0.2.. (port 5683, All CoAP Nodes on `lo`),
 * each with an observable `/light` (which the last one does not take by multicast, so that it is
 * silent to group requests) and a `/coap-group` resource, registered in a resource
 * directory on the next address; a gateway serving the console, its scripts compiled from
 * src/console into a temporary directory with the project's TypeScript.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachGroupConfig,
  attachResourceDirectory,
  CoapClient,
  CoapServer,
  type GroupConfig,
  type HttpGateway,
  RdRegistration,
  type ResourceDirectory,
  startHttpGateway,
} from '../../src/index.js';
import { ROOT } from './cli-run.js';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install Debian's chromium package`;
}

/** Compiles the console's scripts into a new directory, as the build does into dist/console. */
export function buildConsoleScripts(): string {
  const out = mkdtempSync(join(tmpdir(), 'coap-group-console-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'src/console/tsconfig.json'), '--outDir', out],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, `building the console failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/** A running room. */
export interface Room {
  readonly nodes: readonly CoapServer[];
  /** `127.0.0.2:5683`, ... */
  readonly keys: readonly string[];
  readonly rd: string;
  readonly gateway: HttpGateway;
  /** The console's URL. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts `n` nodes, a directory with them registered, and a gateway serving the console. */
export async function startRoom(n: number, leisure: number): Promise<Room> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const scripts = buildConsoleScripts();
    closers.push(async () => rmSync(scripts, { recursive: true, force: true }));
    const nodes: CoapServer[] = [];
    const configs: GroupConfig[] = [];
    for (let i = 0; i < n; i++) {
      const node = new CoapServer({ bind: [`127.0.0.${i + 2}`], iface: '127.0.0.1', leisure });
      let value = 'off';
      node
        // The last node's light takes no group requests: it stays silent to them.
        .resource('/light', { multicast: i < n - 1, rt: 'light', obs: true, ct: 0, title: `Light ${i + 1}` })
        .get(() => ({ payload: value, format: 0 }))
        .put((req) => {
          value = req.text();
          node.notify('/light');
          return { code: '2.04' };
        });
      await node.listen();
      closers.push(() => node.close());
      nodes.push(node);
      const config = await attachGroupConfig(node);
      closers.push(() => config.close());
      configs.push(config);
    }
    const rdAddress = `127.0.0.${n + 2}`;
    const rdServer = new CoapServer({ bind: [rdAddress], iface: '127.0.0.1', joinAllCoapNodes: false });
    await rdServer.listen();
    closers.push(() => rdServer.close());
    const directory: ResourceDirectory = await attachResourceDirectory(rdServer, { joinAllRds: false });
    closers.push(() => directory.close());
    const rd = `coap://${rdAddress}`;
    for (const [i, node] of nodes.entries()) {
      const client = await CoapClient.create({ messenger: node.messenger });
      closers.push(() => client.close());
      const reg = await RdRegistration.start(node, {
        rd,
        client,
        ep: `lamp-${i + 1}`,
        sector: 'room3',
        lifetime: 300,
      });
      closers.push(() => reg.close());
    }
    const gateway = await startHttpGateway({
      iface: '127.0.0.1',
      port: 0,
      console: { rd, wait: 1, scripts },
    });
    closers.push(() => gateway.close());
    return {
      nodes,
      keys: nodes.map((s) => `${s.endpoints[0]!.address}:${s.endpoints[0]!.port}`),
      rd,
      gateway,
      url: `${gateway.address!.origin}/console/`,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
