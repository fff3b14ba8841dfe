/**
 * The architecture checker (test/support/architecture.ts) on small synthetic file graphs: each
 * rule fails on the fault it is there for (a cycle, an upward or sideways import, a codec that
 * imports `node:dgram`, a CLI reaching past the entry points, an oversized file, a rank for a
 * module that does not exist) and passes a graph without it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  eagerClosure,
  forbiddenBuiltins,
  graphOf,
  importCycles,
  importSpecifiers,
  importsOf,
  type Layering,
  missingModules,
  moduleOf,
  oversized,
  restrictedImports,
  unranked,
  upwardImports,
} from '../support/architecture.js';
import { untimedTests } from '../support/test-timeouts.js';

const LAYERS: Layering = {
  ranks: [
    { modules: ['errors'], builtins: [] },
    { modules: ['message', 'options'], builtins: [] },
    { modules: ['oscore'], builtins: ['node:crypto'] },
    { modules: ['transport'], builtins: ['node:dgram'] },
    { modules: ['client', 'server'], builtins: [] },
    { modules: ['oscore/endpoint'], builtins: ['node:crypto'] },
    { modules: ['entry'], builtins: [] },
    { modules: ['cli'], builtins: ['node:fs'] },
  ],
  peers: [['message', 'options']],
  onlyFrom: { cli: ['entry'] },
};

/** A graph that keeps every rule. */
const GOOD = {
  'errors.ts': [],
  'message/decode.ts': ['options/registry.ts', 'errors.ts'],
  'options/registry.ts': ['message/types.ts'],
  'message/types.ts': [],
  'oscore/protect.ts': ['message/types.ts'],
  'transport/udp.ts': ['errors.ts'],
  'client/client.ts': ['transport/udp.ts', 'message/decode.ts'],
  'server/server.ts': ['transport/udp.ts'],
  'oscore/endpoint/client.ts': ['client/client.ts', 'oscore/protect.ts'],
  'entry/client.ts': ['client/client.ts', 'oscore/endpoint/client.ts'],
  'cli/main.ts': ['entry/client.ts', 'cli/usage.ts'],
  'cli/usage.ts': [],
};

describe('architecture checker', () => {
  it('passes a graph that keeps every rule', { timeout: 5000 }, () => {
    const g = graphOf(GOOD, {
      'oscore/protect.ts': { builtins: ['node:crypto'] },
      'transport/udp.ts': { builtins: ['node:dgram'] },
    });
    assert.deepEqual(unranked(g, LAYERS), []);
    assert.deepEqual(missingModules(g, LAYERS), []);
    assert.deepEqual(upwardImports(g, LAYERS), []);
    assert.deepEqual(importCycles(g), []);
    assert.deepEqual(forbiddenBuiltins(g, LAYERS), []);
    assert.deepEqual(restrictedImports(g, LAYERS), []);
    assert.deepEqual(oversized(g, 300, {}), []);
  });

  it('ranks by sub-path: oscore/endpoint above the client, the rest of oscore below it', {
    timeout: 5000,
  }, () => {
    assert.equal(moduleOf('oscore/endpoint/client.ts', LAYERS), 'oscore/endpoint');
    assert.equal(moduleOf('oscore/group/context.ts', LAYERS), 'oscore');
    assert.equal(moduleOf('errors.ts', LAYERS), 'errors');
    assert.equal(moduleOf('errors-more.ts', LAYERS), undefined);
    // An OSCORE primitive that imports the client goes up.
    const g = graphOf({ ...GOOD, 'oscore/protect.ts': ['client/client.ts'] });
    assert.deepEqual(upwardImports(g, LAYERS), ['oscore/protect.ts -> client/client.ts (rank 2 -> 4)']);
  });

  it('fails on an upward import and on a sideways one, and lets peers import each other', {
    timeout: 5000,
  }, () => {
    const up = graphOf({ ...GOOD, 'transport/udp.ts': ['server/server.ts'] });
    assert.deepEqual(upwardImports(up, LAYERS), ['transport/udp.ts -> server/server.ts (rank 3 -> 4)']);
    const sideways = graphOf({ ...GOOD, 'server/server.ts': ['client/client.ts'] });
    assert.deepEqual(upwardImports(sideways, LAYERS), ['server/server.ts -> client/client.ts (rank 4 -> 4)']);
    // message and options are peers: both directions are fine.
    assert.deepEqual(upwardImports(graphOf(GOOD), LAYERS), []);
  });

  it('fails on an import cycle, type-only or not, and names its files', { timeout: 5000 }, () => {
    const g = graphOf({
      ...GOOD,
      'client/client.ts': ['client/core.ts'],
      'client/core.ts': ['client/stage.ts'],
      'client/stage.ts': ['client/client.ts'],
    });
    assert.deepEqual(importCycles(g), [['client/client.ts', 'client/core.ts', 'client/stage.ts']]);
    // Two separate cycles, and a file that imports itself.
    const two = graphOf({
      'a.ts': ['b.ts'],
      'b.ts': ['a.ts', 'c.ts'],
      'c.ts': ['d.ts'],
      'd.ts': ['e.ts'],
      'e.ts': ['c.ts'],
      'f.ts': ['f.ts'],
      'g.ts': ['a.ts'],
    });
    assert.deepEqual(importCycles(two), [['a.ts', 'b.ts'], ['c.ts', 'd.ts', 'e.ts'], ['f.ts']]);
    // The parser counts type-only imports and re-exports as edges.
    assert.deepEqual(
      importSpecifiers(
        "import type { A } from './a.js';\nexport { b } from './b.js';\nexport * from './c.js';\nconst m = await import('./d.js');\n",
      ),
      ['./a.js', './b.js', './c.js', './d.js'],
    );
  });

  it('tells imports loaded with a file from erased and lazy ones', { timeout: 5000 }, () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C } from './c.js';",
      "export type { D } from './d.js';",
      "export * from './e.js';",
      "import './f.js';",
      "const g = await import('./g.js');",
      '/**',
      " * @example import { h } from './h.js';",
      ' */',
    ].join('\n');
    assert.deepEqual(importsOf(text), [
      { spec: './a.js', kind: 'static' },
      { spec: './b.js', kind: 'type' },
      // `import { type C }` still loads ./c.js (verbatimModuleSyntax keeps `import {}`).
      { spec: './c.js', kind: 'static' },
      { spec: './d.js', kind: 'type' },
      { spec: './e.js', kind: 'static' },
      { spec: './f.js', kind: 'static' },
      { spec: './g.js', kind: 'dynamic' },
    ]);
    const g = graphOf(
      {
        'cli/main.ts': ['cli/get.ts', 'cli/serve.ts'],
        'cli/get.ts': ['client/client.ts'],
        'cli/serve.ts': ['server/server.ts'],
        'client/client.ts': [],
        'server/server.ts': [],
      },
      { 'cli/main.ts': { lazy: ['cli/get.ts', 'cli/serve.ts'] } },
    );
    assert.deepEqual(eagerClosure(g, 'cli/main.ts'), ['cli/main.ts']);
    assert.deepEqual(eagerClosure(g, 'cli/get.ts'), ['cli/get.ts', 'client/client.ts']);
  });

  it('finds a cycle in a long chain without overflowing the stack', { timeout: 5000 }, () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) edges[`f${i}.ts`] = [`f${(i + 1) % 20_000}.ts`];
    const cycles = importCycles(graphOf(edges));
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.length, 20_000);
  });

  it('fails on a codec that imports node:dgram, and on a built-in its rank does not list', {
    timeout: 5000,
  }, () => {
    const g = graphOf(GOOD, {
      'message/decode.ts': { builtins: ['node:dgram'] },
      'oscore/protect.ts': { builtins: ['node:crypto', 'node:fs'] },
      'transport/udp.ts': { builtins: ['node:dgram'] },
    });
    assert.deepEqual(forbiddenBuiltins(g, LAYERS), [
      'message/decode.ts imports node:dgram (rank 1)',
      'oscore/protect.ts imports node:fs (rank 2)',
    ]);
  });

  it('fails when the CLI imports past the entry points', { timeout: 5000 }, () => {
    const g = graphOf({ ...GOOD, 'cli/main.ts': ['entry/client.ts', 'client/client.ts'] });
    assert.deepEqual(restrictedImports(g, LAYERS), [
      'cli/main.ts -> client/client.ts (cli imports only entry)',
    ]);
  });

  it('fails on a rank for a module that does not exist, and on a file of no module', {
    timeout: 5000,
  }, () => {
    const noServer = { ...GOOD } as Record<string, string[]>;
    delete noServer['server/server.ts'];
    assert.deepEqual(missingModules(graphOf(noServer), LAYERS), ['server']);
    assert.deepEqual(unranked(graphOf({ ...GOOD, 'proxy/forward.ts': [] }), LAYERS), ['proxy/forward.ts']);
  });

  it('fails on a file over the limit, and on an exception that is not needed', { timeout: 5000 }, () => {
    const g = graphOf(GOOD, { 'client/client.ts': { lines: 310 }, 'server/server.ts': { lines: 330 } });
    const why = 'one state machine that reads better whole';
    assert.deepEqual(oversized(g, 300, { 'client/client.ts': { max: 320, why } }), [
      'server/server.ts: 330 lines (at most 300)',
    ]);
    assert.deepEqual(
      oversized(g, 300, { 'cli/usage.ts': { max: 320, why }, 'server/server.ts': { max: 320, why } }),
      [
        'cli/usage.ts: listed as an exception but 10 lines',
        'client/client.ts: 310 lines (at most 300)',
        'server/server.ts: 330 lines (at most 320)',
      ],
    );
  });

  it('finds async tests without a timeout of their own or of their suite', { timeout: 5000 }, () => {
    const source = [
      'const T = { timeout: 1000 };',
      'const SLOW = { ...T, concurrency: 1 } as const;',
      "describe('timed suite', { timeout: 5000 }, () => {",
      "  it('inherits', async () => {});",
      '});',
      "describe('plain suite', () => {",
      "  it('own literal', { timeout: 10 }, async () => {});",
      "  it('own constant', T, async () => {});",
      "  it('spread constant', SLOW, async () => {});",
      "  it('sync needs none', () => {});",
      "  it('async without', async () => {});",
      '  for (const n of [1, 2]) test(String(n), async function () {});',
      "  it('other options', { skip: false }, async () => {});",
      '});',
      "it('top level', async (t) => {",
      "  await t.test('inner', async () => {});",
      '});',
    ].join('\n');
    assert.deepEqual(
      untimedTests('x.test.ts', source).map((u) => `${u.line} ${u.name}`),
      ['11 async without', '12 String(n)', '13 other options', '15 top level', '16 inner'],
    );
  });
});
