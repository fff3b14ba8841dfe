/**
 * @module cli/demo-secure
 * The secured part of `coap-group demo`: the nodes share a Group OSCORE group whose key
 * material is made in memory for this run (draft-ietf-core-oscore-groupcomm §2; nothing is
 * written to disk), and a protected `/lock` resource that takes multicast. The controller locks
 * every door with one signed multicast PUT: each node verifies it, checks its freshness with an
 * Echo challenge the first time (draft §10) and answers protected. Then an unsigned PUT to the
 * same group is ignored by every node (RFC 7390 §5: silence for multicast), and a protected GET
 * shows that no door moved.
 */
import {
  type CoapClient,
  type CoapServer,
  type GroupResponse,
  generateGroup,
  OscoreClientSecurity,
  OscoreServerSecurity,
  parseOscoreConfig,
  type ServerSecurity,
} from '../index.js';
import { addValueResource } from './serve.js';

/** An administratively scoped group (RFC 2365 site-local) for the secured doors. */
export const SECURE_GROUP = '239.255.0.5';

/** Key material of one run: member 1 is the controller, member i + 2 is node i. */
export interface DemoKeys {
  readonly controller: OscoreClientSecurity;
  node(i: number): ServerSecurity;
}

export function demoKeys(nodes: number): DemoKeys {
  const files = generateGroup({ members: nodes + 1, name: 'doors', addresses: [SECURE_GROUP] });
  return {
    controller: new OscoreClientSecurity(parseOscoreConfig(files[0])),
    node: (i) => new OscoreServerSecurity(parseOscoreConfig(files[i + 1])),
  };
}

/** Adds the protected `/lock` resource and joins the secured group. */
export async function addLock(node: CoapServer): Promise<void> {
  addValueResource(node, '/lock', 'unlocked', { rt: 'lock', multicast: true, protected: true });
  await node.join(SECURE_GROUP);
}

export interface SecureSteps {
  readonly say: (line?: string) => void;
  readonly row: (r: GroupResponse, text: string) => string;
  readonly secured: CoapClient;
  readonly plain: CoapClient;
  readonly nodes: number;
  readonly port: number;
  readonly leisure: number;
  /** The collection window of a request that is not challenged, ms. */
  readonly window: number;
}

/** Steps 6 and 7; resolves true when every node locked and none obeyed the unsigned PUT. */
export async function runSecureSteps(s: SecureSteps): Promise<boolean> {
  const uri = `coap://${SECURE_GROUP}:${s.port}/lock`;
  // A first contact is challenged, then repeated by unicast: two Leisure periods at most.
  const first = (2 * s.leisure + 1) * 1000;
  const window = s.window;
  s.say();
  s.say(`6. Lock every door with Group OSCORE: one signed multicast PUT ${uri} "locked"`);
  const locked = await s.secured.group({ uri, method: 'PUT', payload: 'locked', window: first }).collect();
  for (const r of locked) s.say(s.row(r, 'verified'));
  s.say(
    `   ${locked.length} node${locked.length === 1 ? '' : 's'} verified the signature, checked freshness with Echo and answered protected.`,
  );

  s.say();
  s.say(`7. An unsigned PUT ${uri} "unlocked", then a protected GET`);
  const forged = await s.plain.group({ uri, method: 'PUT', payload: 'unlocked', window }).collect();
  s.say(`   ${forged.length} node${forged.length === 1 ? '' : 's'} answered the unsigned PUT.`);
  const read = await s.secured.group({ uri, window }).collect();
  for (const r of read) s.say(s.row(r, JSON.stringify(r.text())));
  const still = read.filter((r) => r.text() === 'locked').length;
  s.say(`   ${still} of ${s.nodes} doors are still locked.`);
  return locked.length === s.nodes && forged.length === 0 && still === s.nodes;
}
