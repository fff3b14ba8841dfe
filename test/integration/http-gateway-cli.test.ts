/**
 * The command-line side of the HTTP gateway (cli/http-gateway): the options a command spreads
 * into its table, parsed as `coap-group proxy` will parse them, checked before anything is bound
 * (a usage error in the command line's own words), then the gateway started on loopback with the
 * proxy's `--iface` and `--allow-groups-from`, its `ready` words, and a port that is taken.
 * Nothing is sent to a group: the only group request is refused by the allow-list.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  checkHttpGateway,
  HTTP_GATEWAY_OPTIONS,
  httpReady,
  startCliHttpGateway,
} from '../../src/cli/http-gateway.js';
import { parseCommand, UsageError } from '../../src/cli/usage.js';
import { CoapError } from '../../src/errors.js';
import { trackHandles } from '../support/handles.js';

const T = { timeout: 20_000 };

/** The table `coap-group proxy` parses with: its own options the gateway shares, and the gateway's. */
const TABLE = {
  iface: { type: 'string' },
  'allow-groups-from': { type: 'string', multiple: true },
  ...HTTP_GATEWAY_OPTIONS,
} as const;

const parse = (argv: string[]) => parseCommand('proxy', argv, TABLE).values;

function usage(argv: string[], re: RegExp): void {
  assert.throws(
    () => checkHttpGateway(parse(argv)),
    (err: unknown) => err instanceof UsageError && re.test(err.message),
    argv.join(' '),
  );
}

describe('the HTTP gateway on the command line', () => {
  it('is off without --http-port, and its other options need it', () => {
    assert.equal(checkHttpGateway(parse(['--iface', '127.0.0.1'])), undefined);
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
    const gw = await startCliHttpGateway(
      parse([
        '--http-port',
        '0',
        '--http-bind',
        '127.0.0.1',
        '--iface',
        '127.0.0.1',
        '--allow-groups-from',
        '127.0.0.1=coap://224.0.1.187',
      ]),
    );
    assert.ok(gw);
    try {
      const words = httpReady(gw);
      assert.match(words, /^ http http:\/\/127\.0\.0\.1:\d+\/hc\/$/);
      const url = words.slice(' http '.length);
      const links = await fetch(new URL('/.well-known/core?rt=core.hc', url));
      assert.equal(links.status, 200);
      const refused = await fetch(`${url}coap://239.1.1.1/light`, { headers: { 'Multicast-Timeout': '1' } });
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /239\.1\.1\.1:5683 are not allowed from 127\.0\.0\.1/);
    } finally {
      await gw.close();
    }
    assert.equal(httpReady(undefined), '');
    await checkHandles();
  });

  it('fails with ERR_COAP_BIND when the HTTP port is taken', T, async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(
        startCliHttpGateway(parse(['--http-port', String(port)])),
        (err: unknown) =>
          err instanceof CoapError && err.code === 'ERR_COAP_BIND' && /EADDRINUSE/.test(err.message),
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
