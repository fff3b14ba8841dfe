/**
 * @module http-gateway/policy
 * Who may reach what through the gateway. RFC 8075 §10.4 warns that a gateway which forwards any
 * Target CoAP URI opens the constrained network (denial of service, reconnaissance through
 * /.well-known/core) and recommends default-deny with explicit allow-lists; §10.1 and §8.4 say
 * the same of multicast. So: unicast targets must lie in an allow-list of address prefixes, and
 * group targets are forwarded only for HTTP clients in an allow-list, each entry possibly limited
 * to some groups (by authority, and by path when the group URI has one, like
 * `--allow-groups-from CIDR=GROUP-URI` of `coap-group proxy`).
 * Names are checked by the address they resolve to. A browser cannot be turned against the
 * gateway from another site: a request whose Host is a name the gateway was not given (DNS
 * rebinding) or whose Origin is not the gateway's own is refused.
 */
import { InvalidArgumentError } from '../errors.js';
import { parseUri } from '../uri/index.js';
import { type Cidr, canonicalIPv6, cidrContains, ipFamily, isMulticast, parseCidr } from '../util/ip.js';
import { refuse } from './refusal.js';

/** HTTP clients (`from`, a CIDR prefix) allowed to address groups, all or only `groups` (group URIs). */
export interface GatewayGroupAccess {
  readonly from: string;
  /**
   * Group URIs such as `coap://224.0.1.187` or `coap://[ff02::fd]:61616/lights`, matched by host
   * and port; a path limits the entry to targets under it. Absent: every group.
   */
  readonly groups?: readonly string[];
}

interface GroupRule {
  readonly from: Cidr;
  readonly groups: ReadonlyArray<GroupPattern> | 'any';
}

function cidrs(list: readonly string[], what: string): Cidr[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${what} must be an array of CIDR prefixes`);
  return list.map((text) => {
    const c = typeof text === 'string' ? parseCidr(text) : undefined;
    if (c === undefined)
      throw new InvalidArgumentError(
        `${what}: ${JSON.stringify(text)} is not a CIDR prefix; write e.g. 192.0.2.0/24, 127.0.0.1 or ::1/128`,
      );
    return c;
  });
}

interface GroupPattern {
  readonly address: string;
  readonly port: number;
  readonly path: readonly string[];
}

function groupOf(text: string): GroupPattern {
  let uri: ReturnType<typeof parseUri> | undefined;
  try {
    uri = parseUri(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `coap://${text}`);
  } catch {
    uri = undefined;
  }
  if (uri === undefined || uri.hostKind === 'name' || !isMulticast(uri.host))
    throw new InvalidArgumentError(
      `group ${JSON.stringify(text)} is not a group URI with a multicast address; write e.g. coap://224.0.1.187 or coap://[ff02::fd]:5683`,
    );
  return { address: canonical(uri.host), port: uri.port, path: uri.path };
}

function under(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

function canonical(address: string): string {
  return ipFamily(address) === 6 ? canonicalIPv6(address) : address;
}

/** @internal The checked access rules. */
export class Policy {
  readonly #targets: readonly Cidr[] | 'any';
  readonly #groups: readonly GroupRule[];
  readonly #hostnames: ReadonlySet<string>;

  constructor(o: {
    targets: readonly string[] | 'any';
    groupClients: readonly GatewayGroupAccess[];
    hostnames: readonly string[];
  }) {
    this.#targets = o.targets === 'any' ? 'any' : cidrs(o.targets, 'targets');
    if (!Array.isArray(o.groupClients))
      throw new InvalidArgumentError('groupClients must be an array of { from, groups? }');
    this.#groups = o.groupClients.map((g) => ({
      from: cidrs([g?.from], 'groupClients[].from')[0]!,
      groups: g.groups === undefined ? 'any' : g.groups.map(groupOf),
    }));
    this.#hostnames = new Set(o.hostnames.map((h) => h.toLowerCase()));
  }

  /**
   * Refuses (403) a request whose Host names the gateway by a name it was not given, or whose
   * Origin is another origin than the one it addressed.
   */
  checkHost(host: string | undefined, origin: string | undefined): void {
    if (host !== undefined) {
      const name = host
        .replace(/:\d*$/, '')
        .replace(/^\[(.*)\]$/, '$1')
        .toLowerCase();
      if (ipFamily(name) === 0 && name !== 'localhost' && !this.#hostnames.has(name))
        throw refuse(
          403,
          `this gateway does not answer to the name ${name} (a defence against DNS rebinding); give it in hostnames (--http-host-name)`,
        );
    }
    if (origin !== undefined && origin.toLowerCase() !== `http://${host ?? ''}`.toLowerCase())
      throw refuse(403, `requests from ${origin} are refused: the gateway serves its own origin only`);
  }

  /** Refuses (403) a unicast target outside the allow-list. */
  checkUnicast(address: string): void {
    if (this.#targets === 'any' || this.#targets.some((c) => cidrContains(c, address))) return;
    throw refuse(
      403,
      `the target ${address} is not in the gateway's allow-list of targets (RFC 8075 §10.4); add its prefix to targets (--http-allow-target)`,
    );
  }

  /** Refuses (403) a group request from a client not allowed to address this group and path. */
  checkGroup(client: string, address: string, port: number, path: readonly string[]): void {
    const group = canonical(address);
    const ok = this.#groups.some(
      (r) =>
        cidrContains(r.from, client) &&
        (r.groups === 'any' ||
          r.groups.some((g) => g.address === group && g.port === port && under(path, g.path))),
    );
    if (!ok)
      throw refuse(
        403,
        `group requests to ${address.includes(':') ? `[${address}]` : address}:${port} are not allowed from ${client} (RFC 8075 §8.4, §10.1); allow them with groupClients (--allow-groups-from)`,
      );
  }
}
