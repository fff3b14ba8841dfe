/**
 * @module cli/serve-rd
 * `serve --rd URI|auto [--sector NAME] [--ep NAME] [--lifetime SECONDS] [--join-rd-groups]`: the
 * node registers its resources with a resource directory, found at URI or by multicast on its
 * interface (RFC 7390 §3.3, RFC 9176 §4.1), renews before the lifetime ends and deregisters
 * when it stops (RFC 9176 §5, §5.3); with `--join-rd-groups` it joins the groups of its sector
 * that name its multicast resources, and follows them (RFC 9176 Appendix A, §10.1). When the
 * directory cannot be reached at start the node serves anyway and keeps trying.
 */
import {
  CoapClient,
  type CoapServer,
  findRdInterfaces,
  type RdGroupEvent,
  RdGroupMembership,
  RdRegistration,
  type RdRegistrationEvent,
} from '../index.js';
import { endpoint } from './output.js';
import { integer, UsageError } from './usage.js';

/** The options `serve` takes for this. */
export const RD_SERVE_OPTIONS = {
  rd: { type: 'string' },
  sector: { type: 'string' },
  ep: { type: 'string' },
  lifetime: { type: 'string' },
  'join-rd-groups': { type: 'boolean' },
} as const;

export interface ServeRdValues {
  readonly rd?: string | undefined;
  readonly sector?: string | undefined;
  readonly ep?: string | undefined;
  readonly lifetime?: string | undefined;
  readonly 'join-rd-groups'?: boolean | undefined;
}

/** What to stop on shutdown. */
export interface ServeRd {
  close(): Promise<void>;
}

const RETRY_MAX_MS = 60_000;

function say(line: string): void {
  process.stderr.write(`coap-group: rd: ${line}\n`);
}

/** Checks the options before anything is bound. */
export function checkServeRd(v: ServeRdValues, multicastPaths: readonly string[]): number | undefined {
  if (v.rd === undefined) {
    for (const k of ['sector', 'ep', 'lifetime', 'join-rd-groups'] as const) {
      if (v[k] !== undefined)
        throw new UsageError(`--${k} needs --rd URI|auto`, 'e.g. --rd coap://127.0.0.1 or --rd auto');
    }
    return undefined;
  }
  if (v['join-rd-groups'] && multicastPaths.length === 0) {
    throw new UsageError(
      '--join-rd-groups needs resources that take multicast requests',
      'add --multicast PATH for each resource a group may address',
    );
  }
  return integer('lifetime', v.lifetime, 1, 4294967295);
}

/**
 * Registers with the directory and follows its groups; `multicastPaths` are the node's
 * resources that groups may address. Waits for the first registration and group lookup (so
 * `ready` means registered and joined); failures are reported and retried in the background.
 */
export async function startServeRd(
  server: CoapServer,
  v: ServeRdValues,
  multicastPaths: readonly string[],
): Promise<ServeRd> {
  const lifetime = checkServeRd(v, multicastPaths);
  const rdText = v.rd;
  if (rdText === undefined) return { close: async () => {} };
  const client = await CoapClient.create({ messenger: server.messenger });
  const at = server.endpoints[0]!;
  // IPv4 (224.0.1.187) when the node has an IPv4 address, else ff05::fd on its interface.
  const ipv6 = !server.endpoints.some((e) => e.family === 4);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let registration: RdRegistration | undefined;
  let groups: RdGroupMembership | undefined;
  let noLookup = false;
  const onRegistration = (e: RdRegistrationEvent) => {
    if (e.kind === 'registered') say(`registered as ${e.location}`);
    else if (e.kind === 'removed') say(`removed ${e.location}`);
    else if (e.kind === 'failed')
      say(`warning: ${e.error.message}; trying again in ${Math.round(e.retryInMs / 1000)} s`);
  };
  const onGroup = (e: RdGroupEvent) => {
    if (e.kind === 'failed')
      say(
        `warning: ${e.error.message}${e.retryInMs > 0 ? `; trying again in ${Math.round(e.retryInMs / 1000)} s` : ''}`,
      );
    else
      say(
        `${e.kind} group ${endpoint({ address: e.group.address, port: e.group.port })} for ${e.group.paths.join(' ')}`,
      );
  };
  const attempt = async (): Promise<void> => {
    const rd = await findRdInterfaces(client, rdText, { port: at.port, ipv6 });
    registration ??= await RdRegistration.start(server, {
      rd,
      client,
      ep: v.ep ?? `coap-group-${at.address}-${at.port}`,
      ...(v.sector !== undefined ? { sector: v.sector } : {}),
      ...(lifetime !== undefined ? { lifetime } : {}),
      onEvent: onRegistration,
    });
    if (v['join-rd-groups'] && groups === undefined && !noLookup) {
      if (rd.lookupRes === undefined) {
        // Asking again will not help: the directory has no lookup (e.g. libcoap's coap-rd).
        noLookup = true;
        say(
          `warning: ${rd.origin} offers no resource lookup (rt=core.rd-lookup-res): not joining groups from it`,
        );
        return;
      }
      groups = await RdGroupMembership.start(server, {
        client,
        rd,
        ...(v.sector !== undefined ? { sector: v.sector } : {}),
        paths: multicastPaths,
        onEvent: onGroup,
      });
    }
  };
  const keepTrying = (failures: number) =>
    attempt().catch((err: Error) => {
      if (closed) return;
      const wait = Math.min(RETRY_MAX_MS, 1000 * 2 ** failures);
      say(`warning: ${err.message}; trying again in ${Math.round(wait / 1000)} s`);
      timer = setTimeout(() => void keepTrying(failures + 1), wait);
    });
  await keepTrying(0);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await groups?.close();
      await registration?.close();
      await client.close();
    },
  };
}
