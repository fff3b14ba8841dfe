/**
 * The package as a user installs it. Packs a copy of this checkout without dist/ (npm's `prepare`
 * builds it, as for `npm publish` or a git install), installs the tarball into a fresh project and
 * uses it as a user would: an ESM import, every subpath of its `exports` (coap-group/codec, ...),
 * a `require()` (Node 20.19 and later load ES modules from
 * require), a strict NodeNext TypeScript compile with the project's TypeScript and, when npm can
 * get them (from its cache, else the registry), typescript@latest and typescript@6, and
 * `npx coap-group --help`. Last, the copy as a checkout: `npm exec coap-group` there (which runs
 * prepare) keeps a current dist/, and bin/coap-group.cjs runs dist/ while the build is current and
 * the sources once one is newer. Only the copy and the temporary projects are
 * written; everything is removed at the end. Servers bind 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
/** Not copied: what a fresh clone does not have, and what is not ours. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', '.tmp', join('bench', 'results')]);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a user's shell: nothing inherited from an `npm test` around this test. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) && k !== 'NODE_TEST_CONTEXT' && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: userEnv(), timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr: err && code === -1 ? `${stderr}\n${err.message}` : stderr });
      },
    );
  });
}

const show = (r: Run) => `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

/**
 * The tsconfig of a user's strict NodeNext project. `types: []` (TypeScript 6's default) lists
 * no @types package: the package's declarations must name Node's types themselves.
 */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    types: [],
    noEmit: true,
  },
  files: ['app.mts', 'app.cts'],
};

/** A user's TypeScript: ESM with the public types, and CommonJS (`require` of the ES module). */
const APP_MTS = `import { CoapClient, CoapError, CoapResponse, CoapServer } from 'coap-group';

const server = new CoapServer({ bind: ['127.0.0.1'], port: 0, discovery: false });
server.get('/hello', () => ({ payload: 'hello' }));
await server.listen();
const client: CoapClient = await CoapClient.create();
try {
  const res: CoapResponse = await client.request(\`coap://127.0.0.1:\${server.endpoints[0]?.port}/hello\`);
  const text: string = res.text();
  const payload: Buffer = res.payload;
  console.log(text, payload.length);
} catch (err) {
  if (err instanceof CoapError) console.log(err.code);
} finally {
  await client.close();
  await server.close();
}
`;
const APP_CTS = `import { type CoapMessage, decodeMessage, encodeMessage } from 'coap-group/codec';

const empty = Buffer.alloc(0);
const message: CoapMessage = { type: 0, code: 1, messageId: 1, token: empty, options: [], payload: empty };
const bytes: Buffer = encodeMessage(message);
export const again = decodeMessage(bytes).messageId;
`;

/** Runs the app: a GET from a client to a server of the package, on 127.0.0.1. */
const ESM_APP = `import { CoapClient, CoapServer } from 'coap-group';
const server = new CoapServer({ bind: ['127.0.0.1'], port: 0, joinAllCoapNodes: false, discovery: false });
server.get('/hello', () => ({ payload: 'hello from the package' }));
await server.listen();
const client = await CoapClient.create({ bind: [{ address: '127.0.0.1', port: 0 }] });
try {
  const uri = \`coap://127.0.0.1:\${server.endpoints[0].port}/hello\`;
  const res = await client.request({ uri, timeout: 5000 });
  console.log(res.codeString, res.text());
} finally {
  await client.close();
  await server.close();
}
`;
/** require() of the package: the same module instance as import(), so no dual-package copy. */
const CJS_APP = `const coap = require('coap-group');
const { decodeMessage, encodeMessage } = require('coap-group/codec');
const empty = Buffer.alloc(0);
const m = { type: 1, code: 1, messageId: 0x1234, token: Buffer.from('tk'), options: [], payload: empty };
console.log('messageId', decodeMessage(encodeMessage(m)).messageId);
import('coap-group').then((ns) => console.log('same module', ns === coap));
`;

/** Every subpath of package.json `exports`, with one name each that the root also gives. */
const SUBPATHS = `import * as root from 'coap-group';
import * as client from 'coap-group/client';
import * as server from 'coap-group/server';
import * as codec from 'coap-group/codec';
import * as transport from 'coap-group/transport';
import * as oscore from 'coap-group/oscore';
import * as rd from 'coap-group/rd';
const same = [
  client.CoapClient === root.CoapClient,
  server.CoapServer === root.CoapServer,
  codec.Opt === root.Opt,
  transport.MemoryTransport === root.MemoryTransport,
  oscore.OscoreClientSecurity === root.OscoreClientSecurity,
  rd.RdRegistration === root.RdRegistration,
];
const bytes = codec.encodeMessage({ type: 1, code: 1, messageId: 7, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
console.log(same.every(Boolean), codec.decodeMessage(bytes).messageId, 'Messenger' in root, typeof transport.Messenger);
`;

/** A project that imports one subpath alone: its declarations must name Node's types themselves. */
const CODEC_ONLY = `import { decodeMessage, encodeMessage } from 'coap-group/codec';
const bytes: Buffer = encodeMessage({ type: 1, code: 1, messageId: 1, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
export const id: number = decodeMessage(bytes).messageId;
`;

describe('the packed package', { timeout: 600_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'coap-group-pack-'));
  const checkout = join(tmp, 'checkout');
  const app = join(tmp, 'app');
  let files: string[] = [];
  let packed: Run | undefined;

  before(async () => {
    cpSync(ROOT, checkout, {
      recursive: true,
      filter: (from) => !NOT_COPIED.has(relative(ROOT, from)),
    });
    // The copy uses this checkout's dev dependencies (TypeScript for the build).
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], checkout, 300_000);
    if (packed.code !== 0) return;
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [
      { filename: string; files: { path: string }[] },
    ];
    files = info.files.map((f) => f.path);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
    // The tarball has no dependencies, so nothing comes from the registry.
    const installed = await run('npm', ['install', '--offline', join(tmp, info.filename)], app);
    assert.equal(installed.code, 0, show(installed));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('is built by prepare: dist/, bin/, docs/, systemd/, README.md and LICENSE; nothing from tests or src/', () => {
    assert.ok(packed, 'npm pack did not run');
    assert.equal(packed.code, 0, show(packed));
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'bin/coap-group.cjs'])
      assert.ok(files.includes(f), `${f} is not in the package`);
    for (const f of [
      'dist/command/coap-group.cjs',
      'dist/command/coap-group.cjs.cache',
      'bin/load-command.cjs',
    ])
      assert.ok(files.includes(f), `${f} is not in the package`);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'docs/errors.md', 'systemd/coap-group.service'])
      assert.ok(files.includes(f), `${f} is not in the package`);
    const foreign = files.filter((f) => !/^(dist|bin|docs|systemd)\//.test(f) && !/^[^/]+$/.test(f));
    assert.deepEqual(foreign, []);
    assert.deepEqual(files.filter((f) => /^[^/]+$/.test(f)).sort(), ['LICENSE', 'README.md', 'package.json']);
    assert.ok(!files.includes('dist/.build-stamp'));
    assert.match(readFileSync(join(app, 'node_modules', 'coap-group', 'LICENSE'), 'utf8'), /^MIT License/);
  });

  it('carries the command as one bundle with a code cache that this Node accepts', async (t) => {
    if (!installed(t)) return;
    const pkg = join(app, 'node_modules', 'coap-group');
    const probe = [
      `const { loadCommand } = require(${JSON.stringify(join(pkg, 'bin', 'load-command.cjs'))});`,
      `const { script, exports } = loadCommand(${JSON.stringify(join(pkg, 'dist', 'command', 'coap-group.cjs'))});`,
      `process.stdout.write(String(script.cachedDataRejected) + ' ' + typeof exports.main);`,
    ].join('\n');
    const r = await run(process.execPath, ['-e', probe], app);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'false function');
  });

  it("carries the console's browser scripts, one module per source, and its screenshots", () => {
    assert.ok(packed, 'npm pack did not run');
    const sources = readdirSync(join(ROOT, 'src', 'console')).filter((f) => f.endsWith('.ts'));
    assert.ok(sources.includes('main.ts'));
    for (const f of sources) {
      const js = `dist/console/${f.replace(/\.ts$/, '.js')}`;
      assert.ok(files.includes(js), `${js} is not in the package`);
    }
    assert.ok(files.includes('docs/console.md'));
    assert.ok(files.includes('docs/console/act.png'));
  });

  it('ships each source map with the code it maps and the sources it names', (t) => {
    if (!installed(t)) return;
    const maps = files.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 0);
    for (const m of maps) {
      assert.ok(files.includes(m.slice(0, -'.map'.length)), `${m} without its code`);
      const map = JSON.parse(readFileSync(join(app, 'node_modules', 'coap-group', m), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      assert.equal(map.sourcesContent?.length, map.sources.length, `${m} does not carry its sources`);
      assert.ok(
        map.sourcesContent.every((s) => typeof s === 'string' && s.length > 0),
        m,
      );
    }
  });

  it('imports as an ES module and serves and requests', async (t) => {
    if (!installed(t)) return;
    writeFileSync(join(app, 'esm.mjs'), ESM_APP);
    const r = await run(process.execPath, ['esm.mjs'], app, 30_000);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), '2.05 hello from the package');
  });

  it('loads with require() where Node can, and fails naming an ES module where not', async (t) => {
    if (!installed(t)) return;
    writeFileSync(join(app, 'app.cjs'), CJS_APP);
    const features = process.features as { require_module?: boolean };
    if (features.require_module === true) {
      const r = await run(process.execPath, ['app.cjs'], app, 30_000);
      assert.equal(r.code, 0, show(r));
      assert.deepEqual(r.stdout.trim().split('\n'), ['messageId 4660', 'same module true']);
      assert.equal(r.stderr, '', 'no warning from require()');
    }
    // Where Node cannot (before 20.19, or with the flag), the error names an ES module.
    const off = await run(process.execPath, ['--no-experimental-require-module', 'app.cjs'], app, 30_000);
    const old =
      features.require_module === true ? off : await run(process.execPath, ['app.cjs'], app, 30_000);
    for (const r of [off, old]) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /ERR_REQUIRE_ESM/);
      assert.match(r.stderr, /require\(\) of ES Module .*coap-group.dist.index\.js/);
    }
  });

  it('resolves every subpath of exports to the same classes as the root', async (t) => {
    if (!installed(t)) return;
    writeFileSync(join(app, 'subpaths.mjs'), SUBPATHS);
    const r = await run(process.execPath, ['subpaths.mjs'], app, 30_000);
    assert.equal(r.code, 0, show(r));
    // The building blocks are not in the root: the message layer is in coap-group/transport.
    assert.equal(r.stdout.trim(), 'true 7 false function');
  });

  it('type-checks a project that imports a subpath alone, with types: []', async (t) => {
    if (!installed(t)) return;
    writeProject();
    const dir = join(app, 'codec-only');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      `${JSON.stringify({ ...TSCONFIG, files: ['codec.mts'] }, null, 2)}\n`,
    );
    writeFileSync(join(dir, 'codec.mts'), CODEC_ONLY);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', dir], app);
    assert.equal(r.code, 0, show(r));
  });

  it("type-checks a strict NodeNext project (ESM and CommonJS) with the project's TypeScript", async (t) => {
    if (!installed(t)) return;
    writeProject();
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', app], app);
    assert.equal(r.code, 0, show(r));
  });

  for (const tag of ['latest', '6']) {
    it(`type-checks the same project with typescript@${tag}, when npm can get it`, async (t) => {
      if (!installed(t)) return;
      writeProject();
      const dir = join(tmp, `typescript-${tag}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
      let got = await run('npm', ['install', '--offline', `typescript@${tag}`], dir);
      if (got.code !== 0)
        got = await run(
          'npm',
          ['install', '--prefer-offline', '--fetch-retries=1', `typescript@${tag}`],
          dir,
        );
      if (got.code !== 0) {
        t.skip(`typescript@${tag} is neither in npm's cache nor reachable`);
        return;
      }
      const ts = join(dir, 'node_modules', 'typescript');
      const version = (JSON.parse(readFileSync(join(ts, 'package.json'), 'utf8')) as { version: string })
        .version;
      t.diagnostic(`typescript ${version}`);
      const r = await run(process.execPath, [join(ts, 'bin', 'tsc'), '-p', app], app);
      assert.equal(r.code, 0, `typescript ${version}\n${show(r)}`);
    });
  }

  it('runs as npx coap-group', async (t) => {
    if (!installed(t)) return;
    const r = await run('npx', ['--offline', '--yes=false', 'coap-group', '--help'], app, 60_000);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage:/m);
    assert.match(r.stdout, /coap-group get/);
  });

  it('leaves a current dist/ alone when npm exec links the checkout (and runs prepare)', async (t) => {
    if (!installed(t)) return;
    const stamp = join(checkout, 'dist', '.build-stamp');
    const built = statSync(stamp).mtimeMs;
    // A cache of its own: npm links the checkout into it, running prepare, only the first time.
    const cache = join(tmp, 'npm-cache');
    const r = await run(
      'npm',
      ['exec', '--offline', '--cache', cache, '--', 'coap-group', '--help'],
      checkout,
    );
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage:/m);
    assert.equal(statSync(stamp).mtimeMs, built, 'dist/ was built again');
  });

  it("runs the checkout's dist/ while the build is current, and the sources once one is newer", async (t) => {
    if (!installed(t)) return;
    const bin = join(checkout, 'bin', 'coap-group.cjs');
    // Without node_modules there is no tsx: only dist/ can run.
    rmSync(join(checkout, 'node_modules'));
    try {
      const current = await run(process.execPath, [bin, '--help'], checkout, 30_000);
      assert.equal(current.code, 0, show(current));
      assert.match(current.stdout, /^Usage:/m);
      const later = new Date(Date.now() + 2000);
      utimesSync(join(checkout, 'src', 'index.ts'), later, later);
      const stale = await run(process.execPath, [bin, '--help'], checkout, 30_000);
      assert.equal(stale.code, 4, show(stale));
      assert.equal(
        stale.stderr,
        'coap-group: src/ is newer than dist/ and tsx is not installed: run npm run build (or npm install)\n',
      );
    } finally {
      symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    }
    const viaTsx = await run(process.execPath, [bin, '--help'], checkout, 60_000);
    assert.equal(viaTsx.code, 0, show(viaTsx));
    assert.match(viaTsx.stdout, /^Usage:/m);
  });

  /** False, and the test skipped, when the package was not packed (the first test says why). */
  function installed(t: TestContext): boolean {
    if (existsSync(join(app, 'node_modules', 'coap-group', 'package.json'))) return true;
    t.skip('not packed');
    return false;
  }

  function writeProject(): void {
    writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    writeFileSync(join(app, 'app.mts'), APP_MTS);
    writeFileSync(join(app, 'app.cts'), APP_CTS);
    // The user's own @types/node: this checkout's copy. The package names it with a reference
    // directive in dist/index.d.ts, so the project's `types: []` does not leave Buffer undefined.
    const types = join(app, 'node_modules', '@types');
    if (!existsSync(join(types, 'node'))) {
      mkdirSync(types, { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(types, 'node'), 'dir');
    }
  }
});
