/**
 * Unicast interop with libcoap 4.3 (the reference C implementation), on host loopback only:
 * our CoapClient against coap-server-notls, and coap-client-notls against `coap-group serve`.
 * Skipped, with the reason printed, when the libcoap programs are not installed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseLinks } from '../../src/entry/codec.js';
import { CoapClient } from '../../src/index.js';
import { randomPort, trackHandles } from '../support/handles.js';
import { libcoapClient, libcoapMissing, startLibcoapServer } from '../support/peer-libcoap.js';
import type { Peer, RunResult } from '../support/peer-process.js';
import { startPeer } from '../support/peer-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const missing = libcoapMissing();

/** coap-client-notls 4.3.1 ends its output with a newline when the payload has none. */
function printed(r: RunResult): string {
  return r.stdout.replace(/\n$/, '');
}
if (missing !== undefined) process.stdout.write(`# SKIPPED (libcoap interop): ${missing}\n`);

describe('our client against coap-server-notls (unicast)', { skip: missing }, () => {
  const SERVER = '127.0.0.70';
  const port = randomPort();
  const base = `coap://${SERVER}:${port}`;
  let server: Peer | undefined;
  let client: CoapClient | undefined;
  let checkHandles: () => Promise<void>;

  before(async () => {
    checkHandles = trackHandles();
    server = await startLibcoapServer({ address: SERVER, port });
    client = await CoapClient.create({ bind: [{ address: '127.0.0.71', port: 0 }] });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
    await checkHandles?.();
  });

  it('reads the text of / with GET', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/`);
    assert.equal(res.codeString, '2.05');
    // libcoap 4.3.1 leaves out Content-Format on / (it would be 0, text/plain).
    assert.ok(res.format === undefined || res.format === 0, `format ${res.format}`);
    assert.match(res.text(), /libcoap/);
  });

  it('discovers /.well-known/core in link format with </time>', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/.well-known/core`);
    assert.equal(res.codeString, '2.05');
    assert.equal(res.format, 40);
    const links = parseLinks(res.text());
    const time = links.find((l) => l.href === '/time');
    assert.ok(time, `no </time> in ${res.text()}`);
    assert.ok(
      time.attributes.some(([name]) => name === 'obs'),
      'libcoap marks /time as observable',
    );
  });

  it('changes /time with PUT and reads it back', { timeout: 20_000 }, async () => {
    const put = await client!.request({ uri: `${base}/time`, method: 'PUT', payload: '1000' });
    assert.ok(put.ok, `PUT /time answered ${put.codeString}`);
    assert.match(put.codeString, /^2\.0[14]$/);
    const get = await client!.request(`${base}/time`);
    assert.equal(get.codeString, '2.05');
    assert.ok(get.payload.length > 0);
  });

  it('gets 4.04 Not Found for an unknown path', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/nope`);
    assert.equal(res.codeString, '4.04');
    assert.equal(res.ok, false);
  });

  it('gets a NON response to a NON request', { timeout: 20_000 }, async () => {
    const res = await client!.request({ uri: `${base}/`, confirmable: false });
    assert.equal(res.codeString, '2.05');
    assert.match(res.text(), /libcoap/);
  });

  it('gets a separate response after an empty ACK (/async)', { timeout: 20_000 }, async () => {
    const res = await client!.request(`${base}/async?1`);
    assert.equal(res.codeString, '2.05');
    assert.equal(res.text(), 'done');
  });

  it('reassembles the 1500 bytes of /example_data from Block2 blocks', { timeout: 20_000 }, async () => {
    const whole = await client!.request(`${base}/example_data`);
    assert.equal(whole.codeString, '2.05');
    assert.equal(whole.payload.length, 1500);
    // RFC 7959 §2.4: the client may ask for smaller blocks from the first request on.
    const small = await client!.request({ uri: `${base}/example_data`, blockSize: 64 });
    assert.equal(small.codeString, '2.05');
    assert.deepEqual(small.payload, whole.payload);
  });

  it('observes /time and receives fresh notifications (RFC 7641)', { timeout: 20_000 }, async () => {
    const seen: Array<number | undefined> = [];
    // libcoap notifies /time observers every second; three items, then leave (deregisters).
    for await (const n of client!.observe(`${base}/time`)) {
      assert.equal(n.codeString, '2.05');
      seen.push(n.observe);
      if (seen.length >= 3) break;
    }
    assert.equal(seen.length, 3);
    for (const o of seen) assert.equal(typeof o, 'number');
    assert.equal(new Set(seen).size, 3, `Observe values ${seen.join(', ')}`);
  });
});

describe('coap-client-notls against coap-group serve (unicast)', { skip: missing }, () => {
  const NODE = '127.0.0.72';
  const port = randomPort();
  const base = `coap://${NODE}:${port}`;
  let node: Peer | undefined;
  let dir: string | undefined;
  let bigFile = '';
  /** Printable, so it survives the terminal round trip; several 64-byte blocks long. */
  const big = Array.from(
    { length: 60 },
    (_, i) => `line ${String(i).padStart(2, '0')} of a large body\n`,
  ).join('');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coap-interop-'));
    bigFile = join(dir, 'big.txt');
    writeFileSync(bigFile, big);
    const config = join(dir, 'serve.json');
    // --resource cannot set rt; the config gives /light its rt and adds a second typed resource.
    writeFileSync(
      config,
      JSON.stringify({
        resources: [
          { path: '/light', value: 'off', rt: 'light' },
          { path: '/temp', value: '21', rt: 'temperature' },
        ],
      }),
    );
    node = await startPeer(
      process.execPath,
      [
        join(ROOT, 'bin/coap-group.cjs'),
        'serve',
        '--bind',
        NODE,
        '--port',
        String(port),
        '--no-default-groups',
        '--config',
        config,
        '--resource',
        '/note=hello',
        '--resource',
        `/big=@${bigFile}`,
        '--resource',
        '/store=empty',
        '--resource',
        '/counter=#counter',
      ],
      { ready: /^ready /m, timeoutMs: 30_000, cwd: ROOT },
    );
  });

  after(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the value of a --resource with GET', { timeout: 20_000 }, async () => {
    const r = await libcoapClient([`${base}/note`]);
    assert.equal(printed(r), 'hello');
  });

  it('GET /light prints off (CON)', { timeout: 20_000 }, async () => {
    const r = await libcoapClient(['-m', 'get', `${base}/light`]);
    assert.equal(printed(r), 'off', r.stderr);
    assert.equal(r.stderr, '');
  });

  it('GET /light prints off (NON)', { timeout: 20_000 }, async () => {
    const r = await libcoapClient(['-N', '-m', 'get', `${base}/light`]);
    assert.equal(printed(r), 'off', r.stderr);
    assert.equal(r.stderr, '');
  });

  it('PUT -e on then GET prints on (CON)', { timeout: 30_000 }, async () => {
    const put = await libcoapClient(['-m', 'put', '-e', 'on', `${base}/light`]);
    assert.equal(put.stderr, '');
    assert.equal(printed(await libcoapClient([`${base}/light`])), 'on');
    await libcoapClient(['-m', 'put', '-e', 'off', `${base}/light`]);
    assert.equal(printed(await libcoapClient([`${base}/light`])), 'off');
  });

  it('PUT -e on then GET prints on (NON)', { timeout: 30_000 }, async () => {
    const put = await libcoapClient(['-N', '-m', 'put', '-e', 'on', `${base}/light`]);
    assert.equal(put.stderr, '');
    assert.equal(printed(await libcoapClient(['-N', `${base}/light`])), 'on');
    await libcoapClient(['-N', '-m', 'put', '-e', 'off', `${base}/light`]);
    assert.equal(printed(await libcoapClient(['-N', `${base}/light`])), 'off');
  });

  it('filters /.well-known/core?rt=light to the light link only', { timeout: 20_000 }, async () => {
    const all = await libcoapClient([`${base}/.well-known/core`]);
    assert.match(all.stdout, /<\/light>/);
    assert.match(all.stdout, /<\/temp>/);
    const r = await libcoapClient([`${base}/.well-known/core?rt=light`]);
    const links = parseLinks(r.stdout);
    assert.deepEqual(
      links.map((l) => l.href),
      ['/light'],
      r.stdout,
    );
    assert.ok(links[0]!.attributes.some(([n, v]) => n === 'rt' && v === 'light'));
  });

  it('prints 4.04 on stderr for an unknown path (CON)', { timeout: 20_000 }, async () => {
    const r = await libcoapClient([`${base}/nope`]);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /4\.04/);
  });

  it('prints 4.04 on stderr for an unknown path (NON)', { timeout: 20_000 }, async () => {
    const r = await libcoapClient(['-N', `${base}/nope`]);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /4\.04/);
  });

  it('sends a large body block by block (Block2, -b 64)', { timeout: 20_000 }, async () => {
    const r = await libcoapClient(['-b', '64', `${base}/big`]);
    assert.equal(r.stderr, '');
    assert.equal(printed(r), big);
  });

  it('takes a large PUT block by block (Block1, -b 64) and returns it', { timeout: 30_000 }, async () => {
    const put = await libcoapClient(['-b', '64', '-m', 'put', '-f', bigFile, `${base}/store`]);
    assert.equal(put.stderr, '');
    const get = await libcoapClient(['-b', '64', `${base}/store`]);
    assert.equal(printed(get), big);
  });

  it('sends notifications to an observer (-s)', { timeout: 20_000 }, async () => {
    // The counter ticks every second; -s 3 observes for three seconds, -w ends each payload.
    const r = await libcoapClient(['-s', '3', '-w', `${base}/counter`]);
    const values = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
    assert.ok(values.length >= 2, `notifications: ${r.stdout} ${r.stderr}`);
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!, r.stdout);
  });

  it('exits cleanly on SIGTERM', { timeout: 20_000 }, async () => {
    const child = node!.child;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await node!.stop(10_000);
    assert.equal(await exited, 0);
  });
});
