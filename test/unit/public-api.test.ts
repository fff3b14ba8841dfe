/**
 * The public API, read with the TypeScript compiler from the entry points of package.json
 * `exports`: each entry point is a file of src/entry (or the root index); the root keeps the
 * building blocks (codecs, transports, the message layer, OSCORE primitives) out; every
 * exported class has TSDoc with an `@example`; and every such example type-checks against the
 * package, with the few variables examples assume declared first.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');

interface PackageJson {
  exports: Record<string, string | { types: string; default: string }>;
}

/** Subpath -> its source file: `./dist/entry/codec.js` is built from `src/entry/codec.ts`. */
function entryPoints(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
  const out = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.equal(target.types, target.default.replace(/\.js$/, '.d.ts'), `${subpath}: types beside its code`);
    out.set(subpath, join(ROOT, target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')));
  }
  return out;
}

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: ['node'],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
};

/** The variables the examples use without making them (an example is a few lines, not a program). */
const ASSUMED = `
declare const client: CoapClient;
declare const server: CoapServer;
declare const restarted: CoapServer;
declare const config: GroupConfig;
declare const keyring: OscoreKeyring;
declare const uri: string;
declare const masterSecret: Buffer;
declare const senderId: Buffer;
declare const recipientId: Buffer;
declare const inputs: Omit<SecurityContextInput, 'senderSequence'>;
declare const alice: SecurityContext;
declare const bob: SecurityContext;
declare const ctx: SecurityContext;
declare const contexts: SecurityContextRegistry;
declare const message: CoapMessage;
declare const request: CoapMessage;
declare const response: CoapMessage;
declare const outer: CoapMessage;
declare const reply: (answer: ReturnType<typeof oscoreErrorResponse>) => void;
declare const group: GroupSecurityContext;
declare const gid: Buffer;
declare const gmCredential: Buffer;
declare const credential: Buffer;
declare const serverCredential: Buffer;
declare const privateKey: import('node:crypto').KeyObject;
declare const publicKey: import('node:crypto').KeyObject;
`;

describe('public API', () => {
  const entries = entryPoints();
  const program = ts.createProgram([...entries.values()], OPTIONS);
  const checker = program.getTypeChecker();
  const exportsOf = (file: string) =>
    checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  const resolved = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const tmp = mkdtempSync(join(tmpdir(), 'coap-group-examples-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds every entry point of package.json exports from a file of src/', { timeout: 60_000 }, () => {
    assert.equal(entries.get('.'), join(ROOT, 'src/index.ts'));
    for (const [subpath, file] of entries) {
      assert.ok(existsSync(file), `${subpath}: ${file} does not exist`);
      if (subpath !== '.') assert.match(file, /src\/entry\/[\w-]+\.ts$/, subpath);
    }
  });

  it('keeps codecs, transports, the message layer and OSCORE primitives out of the root', {
    timeout: 60_000,
  }, (t) => {
    const root = new Set(exportsOf(entries.get('.')!).map((s) => s.name));
    t.diagnostic(`the root exports ${root.size} names`);
    const building = [
      'Messenger',
      'decodeMessage',
      'encodeMessage',
      'decodeUint',
      'isCritical',
      'optionDefinition',
      'parseLinks',
      'parseMembership',
      'encodeBlock',
      'parseUri',
      'UdpTransport',
      'SecurityContext',
      'GroupSecurityContext',
      'protectRequest',
      'encodeCbor',
    ];
    assert.deepEqual(
      building.filter((n) => root.has(n)),
      [],
    );
    // ...and each is still public, behind a subpath.
    const elsewhere = new Set(
      [...entries].filter(([p]) => p !== '.').flatMap(([, f]) => exportsOf(f).map((s) => s.name)),
    );
    assert.deepEqual(
      building.filter((n) => !elsewhere.has(n)),
      [],
    );
  });

  it('documents every exported class with TSDoc and an @example', { timeout: 60_000 }, () => {
    const missing: string[] = [];
    for (const [subpath, file] of entries) {
      for (const s of exportsOf(file)) {
        const c = resolved(s);
        if ((c.flags & ts.SymbolFlags.Class) === 0) continue;
        const doc = ts.displayPartsToString(c.getDocumentationComment(checker)).trim();
        const example = c.getJsDocTags().some((tag) => tag.name === 'example');
        if (doc === '' || !example)
          missing.push(`${subpath} ${s.name}: ${doc === '' ? 'no TSDoc' : 'no @example'}`);
      }
    }
    assert.deepEqual([...new Set(missing)], []);
  });

  it('has class examples that type-check against the package', { timeout: 120_000 }, () => {
    // Every public name, from the first entry point that has it.
    const from = new Map<string, string>();
    const examples = new Map<string, string>();
    for (const file of entries.values()) {
      for (const s of exportsOf(file)) {
        if (!from.has(s.name)) from.set(s.name, file);
        const c = resolved(s);
        if ((c.flags & ts.SymbolFlags.Class) === 0 || examples.has(s.name)) continue;
        for (const tag of c.getJsDocTags()) {
          if (tag.name !== 'example') continue;
          const code = ts
            .displayPartsToString(tag.text)
            .replace(/^```ts\n/, '')
            .replace(/\n```$/, '');
          examples.set(s.name, code);
        }
      }
    }
    const byFile = new Map<string, string[]>();
    for (const [name, file] of from) byFile.set(file, [...(byFile.get(file) ?? []), name]);
    const imports = [...byFile]
      .map(([file, names]) => `import { ${names.join(', ')} } from '${file.replace(/\.ts$/, '.js')}';`)
      .join('\n');
    const files = [...examples].map(([name, code]) => {
      const f = join(tmp, `${name}.ts`);
      writeFileSync(
        f,
        `${imports}\n${ASSUMED}\nexport async function example(): Promise<void> {\n${code}\n}\n`,
      );
      return f;
    });
    const check = ts.createProgram(files, OPTIONS);
    const errors = ts
      .getPreEmitDiagnostics(check)
      .filter((d) => d.category === ts.DiagnosticCategory.Error)
      .map((d) => {
        const where = d.file === undefined ? '' : `${d.file.fileName.slice(tmp.length + 1)}: `;
        return `${where}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    assert.deepEqual(errors, []);
    assert.ok(examples.size >= 60, `only ${examples.size} examples found`);
  });
});
