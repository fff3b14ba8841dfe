/**
 * The layer rule of docs/architecture.md: a module imports only from modules of a lower rank
 * (message and options form one codec core and may import each other). The CLI imports only the
 * public index.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

export const RANKS: Record<string, number> = {
  constants: 0,
  errors: 0,
  runtime: 1,
  util: 2,
  'fake-runtime': 3,
  message: 4,
  options: 4,
  block: 5,
  'link-format': 5,
  'group-json': 5,
  uri: 5,
  transport: 6,
  messenger: 7,
  client: 8,
  server: 8,
  observe: 8,
  'group-config': 9,
  rd: 9,
  proxy: 9,
  'http-gateway': 9,
  oscore: 9,
  index: 10,
  cli: 11,
  // The console's browser scripts: they import nothing of the library (they speak HTTP only).
  console: 12,
};
const CORE = new Set(['message', 'options']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function moduleOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.split('/')[0]!.replace(/\.ts$/, '');
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

describe('architecture', () => {
  const all = files(SRC);

  it('gives every source module a rank', () => {
    for (const f of all) assert.ok(moduleOf(f) in RANKS, `${relative(SRC, f)} belongs to no layer`);
  });

  it('imports only downward (no edge goes up or sideways)', () => {
    const bad: string[] = [];
    for (const f of all) {
      const from = moduleOf(f);
      for (const spec of imports(f)) {
        const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
        const to = moduleOf(target);
        if (to === from || (CORE.has(from) && CORE.has(to))) continue;
        if (!(RANKS[from]! > RANKS[to]!))
          bad.push(`${relative(SRC, f)} -> ${to} (rank ${RANKS[from]} -> ${RANKS[to]})`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('lets the CLI import only the public index', () => {
    const bad: string[] = [];
    for (const f of all.filter((x) => moduleOf(x) === 'cli')) {
      for (const spec of imports(f)) {
        const to = moduleOf(resolve(dirname(f), spec).replace(/\.js$/, '.ts'));
        if (to !== 'cli' && to !== 'index') bad.push(`${relative(SRC, f)} imports ${spec}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('keeps source files small (about 300 lines, one concept each)', () => {
    const big = all
      .filter((f) => readFileSync(f, 'utf8').split('\n').length > 420)
      .map((f) => relative(SRC, f));
    assert.deepEqual(big, []);
  });

  it('opens every source file with an @module comment', () => {
    const missing = all
      .filter((f) => !readFileSync(f, 'utf8').slice(0, 400).includes('@module'))
      .map((f) => relative(SRC, f));
    assert.deepEqual(missing, []);
  });
});
