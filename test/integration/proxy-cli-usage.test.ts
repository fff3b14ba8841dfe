/**
 * `coap-group proxy` refuses what it cannot run with one line that says how to mend it, exit 2
 * and no stack trace (design.md §CLI contract), and documents its options in --help.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killAll, runCli } from '../support/cli-run.js';

const T = { timeout: 30_000 };

describe('coap-group proxy: usage', () => {
  after(() => killAll());

  for (const [why, args, pattern] of [
    ['no --bind', [], /proxy needs --bind ADDR/],
    [
      'a bad CIDR',
      ['--bind', '127.0.0.1', '--allow-groups-from', '300.1.2.3/8'],
      /--allow-groups-from.*not a CIDR/,
    ],
    [
      'a group that is no group',
      ['--bind', '127.0.0.1', '--allow-groups-from', '127.0.0.0/8=coap://127.0.0.2'],
      /--allow-groups-from.*multicast/,
    ],
    [
      'a route without a group',
      ['--bind', '127.0.0.1', '--reverse', '/room3'],
      /--reverse \/room3 has no group/,
    ],
    ['members without group forwarding', ['--bind', '127.0.0.1', '--learn-members'], /need group forwarding/],
    ['a bad hop limit', ['--bind', '127.0.0.1', '--hops', '300'], /--hops 300/],
    ['an unknown option', ['--bind', '127.0.0.1', '--nope'], /nope/],
    [
      'a gateway option without --http-port',
      ['--bind', '127.0.0.1', '--http-bind', '127.0.0.1'],
      /--http-bind needs --http-port N/,
    ],
    [
      'a bad gateway port',
      ['--bind', '127.0.0.1', '--http-port', '70000'],
      /--http-port 70000 must be an integer/,
    ],
  ] as const) {
    it(`refuses ${why} with one line and exit 2`, T, async () => {
      const r = await runCli(['proxy', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
      assert.equal(r.stdout, '');
    });
  }

  it('lists its options in --help', T, async () => {
    const r = await runCli(['proxy', '--help']);
    assert.equal(r.code, 0);
    for (const o of [
      '--bind',
      '--port',
      '--iface',
      '--hops',
      '--allow-groups-from',
      '--reverse',
      '--cache-size',
      '--http-port',
      '--http-bind',
      '--http-allow-target',
    ])
      assert.ok(r.stdout.includes(o), o);
  });
});
