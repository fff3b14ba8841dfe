/**
 * `coap-group demo` (design.md §CLI contract, `npm start`): nodes on 127.0.0.2.., discovery, one
 * multicast PUT and one multicast GET, all on lo. Checks that every node answers in each of the
 * three sections and that every light ends up on; then that every node verifies and answers the
 * Group OSCORE-protected PUT (section 6) and none obeys an unsigned one (section 7). The demo's
 * addresses are fixed (127.0.0.2-4);
 * the port is random so it does not clash with a node on 5683 or another test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliResult, killAll, lines, ROOT, runCli } from '../support/cli-run.js';
import { randomPort } from '../support/handles.js';

after(killAll);

/** Runs the demo on a random port, trying another when the port is taken. */
async function demo(nodes: number): Promise<{ port: number; r: CliResult }> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    const r = await runCli(
      ['demo', '--nodes', String(nodes), '--port', String(port), '--leisure', '0.5'],
      60_000,
    );
    if (attempt < 2 && r.code !== 0 && /cannot bind/.test(r.stderr)) continue;
    return { port, r };
  }
}

/** The lines of each numbered section ("1. ...", "2. ...", "3. ..."), by number. */
function sections(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines(stdout)) {
    const head = /^(\d+)\. /.exec(line);
    if (head) out.set(head[1]!, (current = []));
    else if (!/^ {3}/.test(line)) current = undefined;
    else current?.push(line);
  }
  return out;
}

/** The distinct `127.0.0.x:port` endpoints named in some lines, sorted. */
function endpoints(body: readonly string[]): string[] {
  const found = body.flatMap((l) => [...l.matchAll(/\b127\.0\.0\.\d+:\d+\b/g)].map((m) => m[0]));
  return [...new Set(found)].sort();
}

describe('coap-group demo', () => {
  it('shows 3 nodes in discovery, the PUT and the GET, and 3 of 3 lights on', {
    timeout: 90_000,
  }, async () => {
    const { port, r } = await demo(3);
    assert.equal(r.code, 0, `exit ${r.code} (signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const found = sections(r.stdout);
    const all = [`127.0.0.2:${port}`, `127.0.0.3:${port}`, `127.0.0.4:${port}`];
    for (const n of ['1', '2', '3']) {
      const body = found.get(n) ?? [];
      assert.deepEqual(endpoints(body), all, `section ${n}:\n${r.stdout}`);
    }
    assert.match(r.stdout, /^ *3 of 3 lights are on\b/m);
    // Sections 4 and 5 (when present): only the nodes commissioned into the room answer it.
    if (found.has('5')) {
      const commissioned = endpoints(found.get('4') ?? []);
      assert.ok(commissioned.length > 0 && commissioned.length < 3, r.stdout);
      assert.deepEqual(endpoints(found.get('5') ?? []), commissioned, r.stdout);
    }
    // Group OSCORE: every node verified the signed PUT; nobody answered the unsigned one.
    assert.deepEqual(endpoints(found.get('6') ?? []), all, r.stdout);
    assert.ok(
      (found.get('6') ?? []).filter((l) => /2\.04 Changed\s+verified/.test(l)).length === 3,
      r.stdout,
    );
    assert.match(r.stdout, /^ *0 nodes answered the unsigned PUT\.$/m);
    assert.match(r.stdout, /^ *3 of 3 doors are still locked\.$/m);
    // Sections 8 and 9: room 4 is commissioned through a resource directory (RFC 9176 Appendix A);
    // the nodes that joined by themselves are exactly those that answer the room's multicast PUT.
    const joined = (found.get('8') ?? []).filter((l) => /joined 239\.255\.0\.4:\d+ for \/light/.test(l));
    const room4 = endpoints(joined);
    assert.deepEqual(room4, [`127.0.0.3:${port}`, `127.0.0.4:${port}`], r.stdout);
    assert.match(r.stdout, /^ *2 of 2 room 4 nodes joined by themselves, from the directory$/m);
    assert.deepEqual(endpoints(found.get('9') ?? []), room4, r.stdout);
    assert.match(r.stdout, /^ *2 nodes answered: exactly the ones of room 4\.$/m);
  });

  it('is what npm start runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.start, 'node bin/coap-group.cjs demo');
  });
});
