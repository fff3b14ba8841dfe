/**
 * The command-line side of the HTTP gateway (cli/http-gateway), as `coap-group proxy` uses it:
 * its options joined to the command's table, its values checked before anything is bound (a
 * usage error in the command line's own words), then the gateway started on loopback with the
 * proxy's interface and `--allow-groups-from`, its `ready` words, no groups without group
 * forwarding, and a port that is taken. Nothing is sent to a group: every group request here is
 * refused before anything is sent.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { HTTP_GATEWAY_EXTENSION } from '../../src/cli/http-gateway.js';
import { parseCommand, UsageError } from '../../src/cli/usage.js';
import { CoapError } from '../../src/errors.js';
import { trackHandles } from '../support/handles.js';

const T = { timeout: 20_000 };

/** The table `coap-group proxy` parses with: its own options the gateway shares, and the gateway's. */
const TABLE = {
  iface: { type: 'string' },
  'allow-groups-from': { type: 'string', multiple: true },
  ...HTTP_GATEWAY_EXTENSION.options,
} as const;

const parse = (argv: string[]) => parseCommand('proxy', argv, TABLE).values;

function usage(argv: string[], re: RegExp): void {
  assert.throws(
    () => HTTP_GATEWAY_EXTENSION.check(parse(argv)),
    (err: unknown) => err instanceof UsageError && re.test(err.message),
    argv.join(' '),
  );
}

describe('the HTTP gateway on the command line', () => {
  it('is off without --http-port, and its other options need it', T, async () => {
    HTTP_GATEWAY_EXTENSION.check(parse(['--iface', '127.0.0.1']));
    assert.equal(
      await HTTP_GATEWAY_EXTENSION.start(parse([]), { options: { iface: '127.0.0.1' } }),
      undefined,
    );
    usage(['--http-bind', '127.0.0.1'], /^--http-bind needs --http-port N$/);
    usage(['--http-allow-target', '10.0.0.0/8'], /^--http-allow-target needs --http-port N$/);
  });

  it('refuses bad values before anything is bound, in the command line words', () => {
    usage(['--http-port', '70000'], /^--http-port 70000 must be an integer from 0 to 65535$/);
    usage(
      ['--http-port', '0', '--http-allow-target', 'lan'],
      /^--http-allow-target: "lan" is not a CIDR prefix/,
    );
    usage(['--http-port', '0', '--allow-groups-from', 'x'], /^--allow-groups-from: "x" is not a CIDR prefix/);
    usage(
      ['--http-port', '0', '--allow-groups-from', '127.0.0.1=coap://10.0.0.1'],
      /^--allow-groups-from: group "coap:\/\/10\.0\.0\.1" is not a group URI with a multicast address/,
    );
  });

  it('starts on loopback with the proxy options, says where, and keeps the allow-list', T, async () => {
    const checkHandles = trackHandles();
    const started = await HTTP_GATEWAY_EXTENSION.start(
      parse([
        '--http-port',
        '0',
        '--http-bind',
        '127.0.0.1',
        '--allow-groups-from',
        '127.0.0.1=coap://224.0.1.187',
      ]),
      { options: { iface: '127.0.0.1', hops: 1 } },
    );
    assert.ok(started);
    try {
      assert.match(started.ready, /^http:\/\/127\.0\.0\.1:\d+\/hc\/$/);
      const url = started.ready;
      const links = await fetch(new URL('/.well-known/core?rt=core.hc', url));
      assert.equal(links.status, 200);
      const refused = await fetch(`${url}coap://239.1.1.1/light`, { headers: { 'Multicast-Timeout': '1' } });
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /239\.1\.1\.1:5683 are not allowed from 127\.0\.0\.1/);
    } finally {
      await started.close();
    }
    // Without group forwarding on the proxy (no interface, no --allow-groups-from), groups are 403.
    const plain = await HTTP_GATEWAY_EXTENSION.start(parse(['--http-port', '0']), { options: {} });
    try {
      const res = await fetch(`${plain!.ready}coap://224.0.1.187/light`, {
        headers: { 'Multicast-Timeout': '1' },
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /^group requests are not configured/);
    } finally {
      await plain!.close();
    }
    await checkHandles();
  });

  it('fails with ERR_COAP_BIND when the HTTP port is taken', T, async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(
        HTTP_GATEWAY_EXTENSION.start(parse(['--http-port', String(port)]), { options: {} }),
        (err: unknown) =>
          err instanceof CoapError && err.code === 'ERR_COAP_BIND' && /EADDRINUSE/.test(err.message),
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
