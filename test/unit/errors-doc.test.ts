/**
 * docs/errors.md lists every error code the sources can throw.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('documents every error code used in src/ in docs/errors.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const codes = new Set<string>();
  for (const f of files(join(ROOT, 'src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/'(ERR_(?:COAP|OSCORE)_[A-Z0-9_]+)'/g)) codes.add(m[1]!);
  }
  const missing = [...codes].filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, []);
});

it('types CoapError.code as the union of exactly the documented codes, each used in src/', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  // The first column of every table row that names a code.
  const documented = new Set(
    [...doc.matchAll(/^\| `(ERR_(?:COAP|OSCORE)_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!),
  );
  const errors = readFileSync(join(ROOT, 'src/errors.ts'), 'utf8');
  const union = /export type CoapErrorCode =([^;]+);/.exec(errors)?.[1] ?? '';
  const typed = new Set([...union.matchAll(/'(ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
  const used = new Set<string>();
  for (const f of files(join(ROOT, 'src'))) {
    if (f.endsWith(join('src', 'errors.ts'))) continue;
    for (const m of readFileSync(f, 'utf8').matchAll(/'(ERR_(?:COAP|OSCORE)_[A-Z0-9_]+)'/g)) used.add(m[1]!);
  }
  // errors.ts throws some codes itself (its own classes).
  for (const m of errors.slice(errors.indexOf('export class')).matchAll(/'(ERR_[A-Z0-9_]+)'/g))
    used.add(m[1]!);
  assert.ok(typed.size > 40, `the union lists ${typed.size} codes`);
  assert.deepEqual([...typed].sort(), [...documented].sort(), 'CoapErrorCode = docs/errors.md');
  assert.deepEqual(
    [...typed].filter((c) => !used.has(c)),
    [],
    'every code of the union is used',
  );
});
