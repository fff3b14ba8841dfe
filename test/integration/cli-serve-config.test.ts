/**
 * The `serve --config` format has two descriptions that must agree: the parser the node runs
 * (src/cli/serve-config.ts) and docs/serve-config.schema.json. Both judge the same files, valid
 * and invalid, and must agree on each; the example files of docs/serve-config.md are among the
 * valid ones, and the error lines the document shows are what `serve` prints.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseServeConfig } from '../../src/cli/serve-config.js';
import { UsageError } from '../../src/cli/usage.js';
import { killAll, ROOT, runCommand } from '../support/cli-run.js';
import { codeBlocks, readDoc } from '../support/doc-examples.js';
import { validate } from '../support/json-schema.js';

const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs/serve-config.schema.json'), 'utf8')) as Record<
  string,
  unknown
>;
const DOC = readDoc('docs/serve-config.md');

after(killAll);

/** What the node says of a document: undefined when it takes it, else its one-line message. */
function parserVerdict(doc: unknown): string | undefined {
  try {
    parseServeConfig(JSON.stringify(doc), 'x.json');
    return undefined;
  } catch (err) {
    assert.ok(err instanceof UsageError, `not a usage error: ${String(err)}`);
    assert.ok(!err.message.includes('\n'));
    return err.message;
  }
}

const VALID: unknown[] = [
  {},
  { leisure: 0.5 },
  { leisure: 5, join: [] },
  {
    join: [
      '239.1.2.3',
      '239.1.2.3:5684',
      '224.0.1.187:65535',
      '[ff05::fd]:5683',
      'ff02::fd',
      '[ff02::fd%25lo]',
    ],
  },
  { resources: [] },
  { resources: [{ path: '/a' }] },
  { resources: [{ path: '/a/b', value: '#counter', rt: 'counter', title: 'A counter' }] },
  {
    resources: [
      { path: '/a', multicast: true },
      { path: '/b', multicast: false },
    ],
  },
  { resources: [{ path: '/a', multicast: {} }] },
  {
    resources: [
      {
        path: '/a',
        multicast: { success: true, clientError: false, serverError: false, emptyContent: false },
      },
    ],
  },
  { $schema: './serve-config.schema.json', leisure: 1 },
];

const INVALID: unknown[] = [
  [],
  'config',
  null,
  42,
  { leisure: 0 },
  { leisure: -1 },
  { leisure: '5' },
  { leisure: null },
  { join: '239.1.2.3' },
  { join: [5] },
  { join: ['10.0.0.1'] },
  { join: ['224.0.1.300'] },
  { join: ['239.1.2.3:0'] },
  { join: ['239.1.2.3:70000'] },
  { join: ['2001:db8::1'] },
  { join: ['lights.example.com'] },
  { resources: {} },
  { resources: ['/a'] },
  { resources: [{ value: 'x' }] },
  { resources: [{ path: 'light' }] },
  { resources: [{ path: 5 }] },
  { resources: [{ path: '/a', value: 1 }] },
  { resources: [{ path: '/a', rt: 5 }] },
  { resources: [{ path: '/a', title: false }] },
  { resources: [{ path: '/a', colour: 'red' }] },
  { resources: [{ path: '/a', multicast: 'yes' }] },
  { resources: [{ path: '/a', multicast: [] }] },
  { resources: [{ path: '/a', multicast: { success: 'no' } }] },
  { resources: [{ path: '/a', multicast: { loud: true } }] },
  { unknown: 1 },
  { $schema: 5 },
];

describe('the serve --config format', () => {
  it('the schema and the node accept the same valid files', () => {
    for (const doc of VALID) {
      assert.deepEqual(validate(SCHEMA, doc), [], `schema refuses ${JSON.stringify(doc)}`);
      assert.equal(parserVerdict(doc), undefined, `node refuses ${JSON.stringify(doc)}`);
    }
  });

  it('the schema and the node refuse the same invalid files', () => {
    for (const doc of INVALID) {
      assert.notDeepEqual(validate(SCHEMA, doc), [], `schema takes ${JSON.stringify(doc)}`);
      assert.notEqual(parserVerdict(doc), undefined, `node takes ${JSON.stringify(doc)}`);
    }
  });

  it('the example files of docs/serve-config.md are valid for both', () => {
    const examples = codeBlocks(DOC, 'docs-example').filter((b) => b.lang === 'json');
    assert.ok(examples.length > 0);
    for (const b of examples) {
      const doc = JSON.parse(b.code) as unknown;
      assert.deepEqual(validate(SCHEMA, doc), [], `line ${b.line}`);
      assert.equal(parserVerdict(doc), undefined, `line ${b.line}`);
    }
  });

  it('serve prints the error lines docs/serve-config.md shows, exit 2, binding nothing', {
    timeout: 60_000,
  }, async () => {
    const shown = codeBlocks(DOC, 'docs-example').find((b) => b.lang === 'text');
    assert.ok(shown, 'docs/serve-config.md shows the error lines');
    const files = [{ resources: [{ path: 'light' }] }, { join: ['10.0.0.1'] }];
    const expected = shown.code.trim().split('\n');
    assert.equal(expected.length, files.length);
    const dir = mkdtempSync(join(tmpdir(), 'coap-group-config-'));
    try {
      for (const [i, doc] of files.entries()) {
        writeFileSync(join(dir, 'light.json'), JSON.stringify(doc));
        const bin = join(ROOT, 'bin/coap-group.cjs');
        // From the file's directory, as the document runs it; 127.0.0.56 is never bound.
        const r = await runCommand('sh', [
          '-c',
          `cd "${dir}" && "${process.execPath}" "${bin}" serve --bind 127.0.0.56 --config light.json`,
        ]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `${expected[i]}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
