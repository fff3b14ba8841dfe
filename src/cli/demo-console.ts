/**
 * @module cli/demo-console
 * `coap-group demo --console`: the demo's room left running for the browser. N nodes on
 * 127.0.0.2.. (All CoAP Nodes on the loopback interface, a `/light` each and their
 * `/coap-group`, RFC 7390 §2.6.2), a resource directory after them (RFC 9176) in which every
 * node registers in its sector (the first half in `hall`, the rest in `room4`) and follows its
 * sector's groups, and a gateway on loopback serving the console (docs/console.md). Prints the
 * console's URL and runs until stopped. Nothing is sent beyond loopback.
 */
import { ALL_COAP_NODES_IPV4, attachGroupConfig, attachResourceDirectory, CoapServer } from '../index.js';
import { startConsoleGateway, untilStopped } from './console.js';
import { registerLamp } from './demo-rd.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { addValueResource } from './serve.js';
import type { Session } from './session.js';
import { LOOPBACK } from './usage.js';

/** The room's size and ports. */
export interface DemoConsoleSettings {
  readonly nodes: number;
  readonly leisure: number;
  readonly port: number;
  readonly httpPort: number;
  /** Written once the room and the console are ready, removed on exit. */
  readonly pidFile?: string | undefined;
}

/** Runs the room and the console until the session is stopped; resolves with the exit status. */
export async function runDemoConsole(s: DemoConsoleSettings, session: Session): Promise<number> {
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const nodes: CoapServer[] = [];
    for (let i = 0; i < s.nodes; i++) {
      const node = new CoapServer({
        bind: [`127.0.0.${i + 2}`],
        port: s.port,
        iface: LOOPBACK,
        leisure: s.leisure,
      });
      const stop = addValueResource(node, '/light', 'off', {
        rt: 'light',
        title: `Light ${i + 1}`,
        multicast: true,
      });
      await node.listen();
      closers.push(() => node.close(), stop);
      const config = await attachGroupConfig(node);
      closers.push(() => config.close());
      nodes.push(node);
    }
    const rdAddress = `127.0.0.${s.nodes + 2}`;
    const rdServer = new CoapServer({
      bind: [rdAddress],
      port: s.port,
      iface: LOOPBACK,
      joinAllCoapNodes: false,
    });
    await rdServer.listen();
    closers.push(() => rdServer.close());
    const directory = await attachResourceDirectory(rdServer, { joinAllRds: false });
    closers.push(() => directory.close());
    const rd = `coap://${rdAddress}${s.port === 5683 ? '' : `:${s.port}`}`;
    for (const [i, node] of nodes.entries())
      await registerLamp(
        node,
        { rd, index: i, sector: i < Math.floor(s.nodes / 2) ? 'hall' : 'room4' },
        closers,
      );
    const gateway = await startConsoleGateway({
      port: s.httpPort,
      host: LOOPBACK,
      iface: LOOPBACK,
      group: `coap://${ALL_COAP_NODES_IPV4}${s.port === 5683 ? '' : `:${s.port}`}`,
      rd,
      wait: Math.ceil(s.leisure + 1),
    });
    closers.push(() => gateway.close());
    process.stdout.write(
      `coap-group demo: ${s.nodes} node${s.nodes === 1 ? '' : 's'} on 127.0.0.2-127.0.0.${s.nodes + 1} port ${s.port} in All CoAP Nodes on the loopback interface, Leisure ${s.leisure} s; a resource directory at ${rd} (sectors hall and room4)\n`,
    );
    if (s.pidFile !== undefined) {
      writePidFile(s.pidFile);
      closers.push(() => removePidFile(s.pidFile!));
    }
    process.stdout.write(`console ${gateway.address!.origin}/console/\n`);
    process.stdout.write('The room runs until stopped (Ctrl-C).\n');
    await untilStopped(session.signal);
    return 0;
  } finally {
    for (const close of closers.reverse()) await close();
  }
}
