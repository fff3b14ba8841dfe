/**
 * The rules of docs/architecture.md, checked on src/ (the checker is test/support/architecture.ts):
 * every file belongs to a ranked module and imports only from lower ranks; no import cycle
 * between files (type-only imports included); each rank imports only the Node built-ins listed
 * for it, and the codec ranks none that do I/O; the CLI uses only the public entry points; files
 * of about 300 lines; a rank names only modules that exist; and the rank table of
 * docs/architecture.md is this one.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  eagerClosure,
  forbiddenBuiltins,
  foreignImports,
  importCycles,
  type Layering,
  missingModules,
  oversized,
  readSourceGraph,
  restrictedImports,
  type SizeException,
  unranked,
  upwardImports,
  withoutModuleComment,
} from '../support/architecture.js';
import { untimedTests } from '../support/test-timeouts.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The ranks, bottom up: a rank's number is its position. A module is a directory of src/ (or a
 * sub-directory, where a module has layers inside it: `oscore/endpoint` sits above the client and
 * server, the rest of `oscore/` below them) or a top-level file. A new module joins the line of
 * its rank here and the same row of docs/architecture.md.
 */
export const LAYERING: Layering = {
  ranks: [
    { modules: ['constants', 'errors'], builtins: [] },
    { modules: ['runtime'], builtins: ['node:crypto'] },
    { modules: ['util'], builtins: ['node:fs', 'node:net', 'node:path'] },
    { modules: ['fake-runtime'], builtins: [] },
    { modules: ['message', 'options', 'cbor'], builtins: [] },
    { modules: ['uri', 'block', 'link-format', 'group-json'], builtins: [] },
    { modules: ['oscore'], builtins: ['node:crypto'] },
    { modules: ['transport'], builtins: ['node:dgram', 'node:dns', 'node:os'] },
    { modules: ['messenger'], builtins: ['node:diagnostics_channel', 'node:util'] },
    {
      modules: ['client', 'server'],
      builtins: ['node:crypto', 'node:diagnostics_channel', 'node:dns/promises', 'node:os'],
    },
    {
      modules: ['oscore/endpoint'],
      builtins: ['node:crypto', 'node:diagnostics_channel', 'node:fs', 'node:path', 'node:util'],
    },
    {
      modules: ['group-config', 'rd', 'proxy', 'http-gateway'],
      builtins: [
        'node:crypto',
        'node:diagnostics_channel',
        'node:fs',
        'node:fs/promises',
        'node:http',
        'node:net',
        'node:os',
        'node:path',
        'node:timers/promises',
        'node:url',
        'node:util',
        'node:zlib',
      ],
    },
    { modules: ['entry'], builtins: [] },
    { modules: ['index'], builtins: [] },
    {
      modules: ['cli'],
      builtins: ['node:diagnostics_channel', 'node:fs', 'node:os', 'node:path', 'node:util'],
    },
    // The console's browser scripts: they import nothing of the library (they speak HTTP only).
    { modules: ['console'], builtins: [] },
  ],
  // The message codec and the option registry are one codec core.
  peers: [['message', 'options']],
  onlyFrom: { cli: ['index', 'entry'] },
};

/** Never allowed below the transport: they do I/O. */
const IO_BUILTINS = ['node:dgram', 'node:net', 'node:fs', 'node:child_process', 'node:http', 'node:os'];

const LIMIT = 300;
/** Files allowed a little over the limit, and why (at most 320 lines). */
const EXCEPTIONS: Record<string, SizeException> = {
  'oscore/endpoint/server.ts': {
    max: 310,
    why: 'the unicast and the group verification paths (RFC 8613 §8.2, Group OSCORE §8.4) share the private Echo guards and keyring of one class',
  },
};

describe('architecture', () => {
  const graph = readSourceGraph(resolve(ROOT, 'src'));

  it('gives every source file a ranked module', { timeout: 10_000 }, () => {
    assert.deepEqual(unranked(graph, LAYERING), []);
  });

  it('ranks only modules that exist', { timeout: 10_000 }, () => {
    assert.deepEqual(missingModules(graph, LAYERING), []);
  });

  it('imports only downward (no edge goes up or sideways)', { timeout: 10_000 }, () => {
    assert.deepEqual(upwardImports(graph, LAYERING), []);
  });

  it('has no import cycle between files, type-only imports included', { timeout: 10_000 }, () => {
    assert.deepEqual(importCycles(graph), []);
  });

  it('imports only the Node built-ins allowed for each rank', { timeout: 10_000 }, () => {
    assert.deepEqual(forbiddenBuiltins(graph, LAYERING), []);
  });

  it('keeps the codec ranks and everything below the transport free of I/O built-ins', () => {
    const transport = LAYERING.ranks.findIndex((r) => r.modules.includes('transport'));
    const io = LAYERING.ranks
      .slice(0, transport)
      .flatMap((r, i) => r.builtins.filter((b) => IO_BUILTINS.includes(b)).map((b) => `${i}: ${b}`));
    // util holds the crash-safe state file writer (node:fs) and the IP address facts (node:net's
    // isIP); the codec ranks above it use neither.
    assert.deepEqual(io, ['2: node:fs', '2: node:net']);
  });

  it('imports no package and no path outside src/, but the one the HTTP gateway names', {
    timeout: 10_000,
  }, () => {
    // structured-headers parses and serializes the gateway's Reply-From field (RFC 9651); the
    // gateway loads it when it starts, so the rest of the package never does.
    const allowed = new Set([
      'http-gateway/gateway.ts imports structured-headers',
      'http-gateway/reply-from.ts imports structured-headers',
    ]);
    assert.deepEqual(
      foreignImports(graph).filter((l) => !allowed.has(l)),
      [],
    );
  });

  it('lets the CLI import only the public entry points', { timeout: 10_000 }, () => {
    assert.deepEqual(restrictedImports(graph, LAYERING), []);
  });

  it('loads for a one-shot request the client alone, not the server, OSCORE, group-config or rd', {
    timeout: 10_000,
  }, () => {
    // cli/main imports each command's module when it runs; cli/request is the get command's.
    const loaded = new Set([...eagerClosure(graph, 'cli/main.ts'), ...eagerClosure(graph, 'cli/request.ts')]);
    assert.ok(loaded.has('client/client.ts'));
    const heavy = [...loaded].filter((f) =>
      /^(server|oscore|group-config|rd|link-format|group-json)\/|^index\.ts$|^entry\/(server|oscore|rd|codec|transport)\.ts$|^cli\/(serve|keys|demo|rd|groups)/.test(
        f,
      ),
    );
    assert.deepEqual(heavy, []);
  });

  it(`keeps source files small (${LIMIT} lines, a few named exceptions)`, { timeout: 10_000 }, () => {
    for (const [path, e] of Object.entries(EXCEPTIONS)) {
      assert.ok(e.max <= 320, `${path}: an exception goes to 320 lines at most`);
      assert.ok(e.why.length > 20, `${path}: say why it is an exception`);
    }
    assert.deepEqual(oversized(graph, LIMIT, EXCEPTIONS), []);
  });

  it('opens every source file with an @module comment', { timeout: 10_000 }, () => {
    assert.deepEqual(withoutModuleComment(graph), []);
  });

  it("gives every async test a timeout (its own, or its suite's)", { timeout: 60_000 }, () => {
    const untimed: string[] = [];
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
      );
    for (const f of walk(resolve(ROOT, 'test'))) {
      for (const u of untimedTests(f, readFileSync(f, 'utf8')))
        untimed.push(`${relative(ROOT, f)}:${u.line} ${u.name}`);
    }
    assert.deepEqual(untimed, []);
  });

  it('keeps only test files in the test suites: support in test/support, fixtures in test/fixtures', {
    timeout: 10_000,
  }, () => {
    const stray = ['unit', 'integration', 'robust'].flatMap((suite) =>
      readdirSync(resolve(ROOT, 'test', suite))
        .filter((f) => !f.endsWith('.test.ts'))
        .map((f) => `test/${suite}/${f}`),
    );
    assert.deepEqual(stray, []);
  });

  it('has the rank table of docs/architecture.md', { timeout: 10_000 }, () => {
    const doc = readFileSync(resolve(ROOT, 'docs/architecture.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d+) \| ([^|]+) \|[^|]*\| ([^|]+) \|$/gm)].map((m) => ({
      rank: Number(m[1]),
      modules: [...m[2]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!),
      builtins: [...m[3]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!).sort(),
    }));
    const expected = LAYERING.ranks.map((r, rank) => ({
      rank,
      modules: [...r.modules],
      builtins: [...r.builtins].sort(),
    }));
    assert.deepEqual(rows, expected, 'docs/architecture.md: the rank table differs from LAYERING');
  });
});
