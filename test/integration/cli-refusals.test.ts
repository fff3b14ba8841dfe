/**
 * What the command refuses to send, and how it says so (design.md §CLI contract: one line on
 * stderr saying how to mend it, exit 2): a URI whose scheme needs a transport coap-group does not
 * have (`coaps`, `coap+tcp`, ...), refused before its host is looked up; and, with `--oscore
 * FILE`, a request that no context in FILE protects, which is never sent in the clear. The wire
 * itself is checked in wire-secrets.test.ts; here nothing listens, so a request that did go out
 * would end in a timeout (exit 3), not in these lines.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliResult, killAll, lines, runCli } from '../support/cli-run.js';

const T = { timeout: 60_000 };
const dir = mkdtempSync(join(tmpdir(), 'coap-group-refusals-'));

after(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

function refused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2; got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const l = lines(r.stderr);
  assert.equal(l.length, 1, `one line on stderr; got:\n${r.stderr}`);
  assert.match(l[0]!, pattern);
}

describe('coap-group refuses what it cannot send safely', () => {
  it('refuses coaps and the RFC 8323 schemes, saying to use coap:// with --oscore', T, async () => {
    const secret = ['--payload', 'my-password', '--timeout', '2'];
    refused(
      await runCli(['put', 'coaps://127.0.0.1/secret', ...secret]),
      /^coap-group: coaps:\/\/ needs DTLS.*--oscore/,
    );
    for (const scheme of ['coap+tcp', 'coaps+tcp', 'coap+ws', 'coaps+ws']) {
      refused(
        await runCli(['post', `${scheme}://127.0.0.1/secret`, ...secret]),
        new RegExp(`${scheme.replace('+', '\\+')}://`),
      );
    }
    // A name: refused before the lookup, so the error is about the scheme, not the name.
    refused(await runCli(['get', 'coaps://no-such-host.invalid/x']), /coaps:\/\/ needs DTLS/);
  });

  it('with --oscore, refuses a request that no context in the file protects', T, async () => {
    const keys = await runCli(['keys', 'group', '--members', '2', '--out', dir]);
    assert.equal(keys.code, 0, keys.stderr);
    const file = join(dir, 'member-1.json');
    assert.ok(readFileSync(file, 'utf8').includes('"members"'));
    refused(
      await runCli(['put', 'coap://127.0.0.1:5999/secret', '--payload', 'my-password', '--oscore', file]),
      /no context in the file protects requests to 127\.0\.0\.1:5999, so nothing was sent \(make the group file with coap-group keys group --member-address/,
    );
    refused(
      await runCli(['get', 'coap://239.255.0.23/secret', '--oscore', file, '--observe', '--wait', '2']),
      /no group in the file has the address 239\.255\.0\.23:5683, so nothing was sent/,
    );
  });
});
