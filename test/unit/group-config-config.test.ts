/**
 * The Group Configuration state machine (RFC 7390 §2.6.2) on the memory transport with a fake
 * clock: the node's own change API, one change at a time in arrival order, no-op changes that
 * save nothing, the membership limit (4.09 on POST, 4.00 on PUT of the collection), and a store
 * failure that leaves state and memberships untouched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachGroupConfig, type GroupConfigOptions } from '../../src/group-config/attach.js';
import { GroupConfigFullError } from '../../src/group-config/errors.js';
import { encodeState, type GroupConfigState } from '../../src/group-config/state-file.js';
import { type GroupConfigStore, MemoryGroupConfigStore } from '../../src/group-config/store.js';
import { parseCollection, parseMembership } from '../../src/group-json/index.js';
import { TestNet } from '../support/test-net.js';

const T = { timeout: 10_000 };

/** No DNS from tests: every name lookup fails at once, as for an unknown name. */
const noDns = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`no DNS in tests (${host})`), { code: 'ENOTFOUND' });
};

/** A memory store that counts saves and can be told to fail. */
class CountingStore extends MemoryGroupConfigStore implements GroupConfigStore {
  saves: string[] = [];
  fail = false;
  override async save(s: GroupConfigState): Promise<undefined> {
    if (this.fail) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    this.saves.push(encodeState(s).toString());
    return super.save(s);
  }
}

async function setup(options: GroupConfigOptions = {}) {
  const t = new TestNet({ seed: 3, settle: { maxMs: 2500, step: 5 } });
  const rt = t.rt;
  const { server } = await t.server(
    { address: '192.0.2.2', port: 5683, ipv4Interface: '127.0.0.1' },
    { joinAllCoapNodes: false },
  );
  const store = new CountingStore();
  const config = await attachGroupConfig(server, {
    store,
    resolver: noDns,
    rateLimit: false,
    graceMs: 0,
    ...options,
  });
  const { client } = await t.client({ address: '127.0.0.1', port: 40000 });
  const request = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, payload?: string) =>
    rt.settle(
      client.request({
        uri: `coap://192.0.2.2/coap-group${path}`,
        method,
        ...(payload !== undefined ? { payload, format: 256 } : {}),
      }),
    );
  const groups = () =>
    server
      .memberships()
      .map((m) => `${m.group}:${m.port}`)
      .sort();
  return {
    rt,
    server,
    store,
    config,
    request,
    groups,
    async close() {
      await client.close();
      await config.close();
      await server.close();
    },
  };
}

const M = (a: string) => parseMembership(`{"a":"${a}"}`);

describe('GroupConfig change API', () => {
  it('adds, sets, removes and replaces, joining and leaving as it goes', T, async () => {
    const s = await setup();
    assert.equal(await s.config.add(M('239.1.0.1')), '1');
    assert.equal(await s.config.set('B7', M('239.1.0.2:6000')), true);
    assert.equal(await s.config.set('b7', M('239.1.0.3')), false, 'the same index, ignoring case');
    assert.deepEqual(s.groups(), ['239.1.0.1:5683', '239.1.0.3:5683']);
    assert.equal(await s.config.remove('1'), true);
    assert.equal(await s.config.remove('1'), false);
    await s.config.replace(parseCollection('{"9":{"a":"239.1.0.9"}}'));
    assert.equal(s.config.document(), '{"9":{"a":"239.1.0.9"}}');
    assert.deepEqual(s.groups(), ['239.1.0.9:5683']);
    await s.close();
    assert.deepEqual(s.groups(), []);
  });

  it('rejects bad arguments as rejected promises, changing nothing', T, async () => {
    const s = await setup();
    await assert.rejects(s.config.set('abc', M('239.1.0.1')), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    await assert.rejects(s.config.remove(''), { code: 'ERR_COAP_INVALID_ARGUMENT' });
    await assert.rejects(s.config.add({}), { code: 'ERR_COAP_GROUP_JSON' });
    await assert.rejects(s.config.add({ a: { address: '10.0.0.1', family: 4, port: undefined } }), {
      code: 'ERR_COAP_GROUP_JSON',
    });
    assert.equal(s.config.document(), '{}');
    await s.close();
  });

  it('hands out copies: changing what entries() or get() returned changes nothing', T, async () => {
    const s = await setup();
    await s.config.add(M('239.1.0.1'));
    s.config.entries().get('1')!.a!.address = '239.9.9.9';
    s.config.get('1')!.a!.address = '239.9.9.9';
    assert.equal(s.config.document(), '{"1":{"a":"239.1.0.1"}}');
    await s.close();
  });

  it('applies concurrent changes one at a time, in order, and saves each exactly once', T, async () => {
    const s = await setup();
    const before = s.store.saves.length;
    const indexes = await Promise.all([1, 2, 3, 4, 5].map((k) => s.config.add(M(`239.1.1.${k}`))));
    assert.deepEqual(indexes, ['1', '2', '3', '4', '5']);
    assert.equal(s.store.saves.length - before, 5);
    assert.equal(s.store.saves.at(-1), encodeState({ groups: s.config.entries(), next: 5 }).toString());
    await s.close();
  });

  it('saves nothing for a change that changes nothing', T, async () => {
    const s = await setup();
    await s.config.set('1', M('239.1.0.1'));
    const n = s.store.saves.length;
    await s.config.set('1', M('239.1.0.1'));
    await s.config.remove('2');
    await s.config.replace(s.config.entries());
    assert.equal(s.store.saves.length, n);
    await s.close();
  });

  it('leaves state and memberships untouched when the store cannot save', T, async () => {
    const s = await setup();
    await s.config.add(M('239.1.0.1'));
    s.store.fail = true;
    await assert.rejects(s.config.add(M('239.1.0.2')), /disk full/);
    await assert.rejects(s.config.replace(new Map()), /disk full/);
    assert.equal(s.config.document(), '{"1":{"a":"239.1.0.1"}}');
    assert.deepEqual(s.groups(), ['239.1.0.1:5683']);
    s.store.fail = false;
    assert.equal(await s.config.add(M('239.1.0.2')), '2', 'the failed add did not take an index');
    await s.close();
  });

  it('refuses changes after close and leaves every group it joined', T, async () => {
    const s = await setup();
    await s.config.add(M('239.1.0.1'));
    await s.server.join('239.1.0.1');
    await s.config.close();
    await assert.rejects(s.config.add(M('239.1.0.2')), { code: 'ERR_COAP_CLOSED' });
    assert.deepEqual(
      s.server.memberships().map((m) => [m.group, m.refs]),
      [['239.1.0.1', 1]],
      'the application join stays',
    );
    await s.close();
  });
});

describe('the membership limit', () => {
  it('answers POST with 4.09 and an oversized PUT with 4.00 when full; updates still work', T, async () => {
    const s = await setup({ maxEntries: 2 });
    assert.equal((await s.request('POST', '', '{"a":"239.2.0.1"}')).codeString, '2.01');
    assert.equal((await s.request('PUT', '/x', '{"a":"239.2.0.2"}')).codeString, '2.01');
    const full = await s.request('POST', '', '{"a":"239.2.0.3"}');
    assert.equal(full.codeString, '4.09');
    assert.match(full.text(), /at most 2 group memberships; delete one first/);
    assert.equal((await s.request('PUT', '/y', '{"a":"239.2.0.3"}')).codeString, '4.09');
    const big = await s.request(
      'PUT',
      '',
      '{"1":{"a":"239.2.0.1"},"2":{"a":"239.2.0.2"},"3":{"a":"239.2.0.3"}}',
    );
    assert.equal(big.codeString, '4.00');
    assert.match(big.text(), /3 memberships, but this node keeps at most 2/);
    assert.equal((await s.request('PUT', '/x', '{"a":"239.2.0.9"}')).codeString, '2.04');
    assert.equal(s.config.document(), '{"1":{"a":"239.2.0.1"},"x":{"a":"239.2.0.9"}}');
    await assert.rejects(s.config.add(M('239.2.0.4')), GroupConfigFullError);
    await s.close();
  });
});
