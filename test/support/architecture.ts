/**
 * The checker behind test/unit/architecture.test.ts: the rules of docs/architecture.md over a
 * graph of source files. `readSourceGraph` reads src/ into the graph; every other function is
 * pure over a graph, so test/unit/architecture-checker.test.ts proves each rule on small
 * synthetic graphs (that a cycle, an upward import, a codec importing `node:dgram` fail).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix, relative } from 'node:path';

/** One source file, as the rules see it. Paths are relative to src/, with `/` and `.ts`. */
export interface SourceFile {
  readonly path: string;
  /** The src/ files it imports: static, type-only, re-exports and `import()` alike. */
  readonly imports: readonly string[];
  /**
   * Those loaded with it at run time: static imports and re-exports, not `import type` (erased)
   * nor `import()` (loaded when that line runs).
   */
  readonly eager: readonly string[];
  /** The Node built-ins it imports, as `node:NAME`. */
  readonly builtins: readonly string[];
  /** Imports of anything else: packages, and relative paths that name no file of src/. */
  readonly unresolved: readonly string[];
  readonly lines: number;
  /** Its first 400 characters (where the `@module` comment must be). */
  readonly head: string;
}

/** The files by path. */
export type SourceGraph = ReadonlyMap<string, SourceFile>;

/** One rank: its modules, and the Node built-ins its files may import. */
export interface Rank {
  /** Module paths: a directory (`client`, `oscore/endpoint`) or a top-level file (`errors`). */
  readonly modules: readonly string[];
  readonly builtins: readonly string[];
}

/** The layering: ranks from the bottom up (a rank's number is its position). */
export interface Layering {
  readonly ranks: readonly Rank[];
  /** Modules of one rank that may import each other (one codec core). */
  readonly peers?: readonly (readonly string[])[];
  /** Modules that may import only from the modules listed (besides themselves). */
  readonly onlyFrom?: Readonly<Record<string, readonly string[]>>;
}

/** Reads every `.ts` file under `src` into a graph. */
export function readSourceGraph(src: string): SourceGraph {
  const paths = walk(src).map((f) => relative(src, f).split('\\').join('/'));
  const known = new Set(paths);
  const graph = new Map<string, SourceFile>();
  for (const path of paths) {
    const text = readFileSync(join(src, path), 'utf8');
    const imports: string[] = [];
    const eager: string[] = [];
    const builtins: string[] = [];
    const unresolved: string[] = [];
    for (const { spec, kind } of importsOf(text)) {
      if (spec.startsWith('.')) {
        const target = posix.join(posix.dirname(path), spec).replace(/\.js$/, '.ts');
        if (!known.has(target)) unresolved.push(spec);
        else {
          imports.push(target);
          if (kind === 'static') eager.push(target);
        }
      } else if (isBuiltin(spec)) builtins.push(spec.startsWith('node:') ? spec : `node:${spec}`);
      else unresolved.push(spec);
    }
    graph.set(path, {
      path,
      imports,
      eager,
      builtins,
      unresolved,
      lines: lineCount(text),
      head: text.slice(0, 400),
    });
  }
  return graph;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Lines as `wc -l` counts them (a final newline ends the last line). */
export function lineCount(text: string): number {
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** How a file imports another: loaded with it, erased (`import type`), or when a line runs. */
export type ImportKind = 'static' | 'type' | 'dynamic';

/**
 * What a file imports: `import … from`, `import type … from`, `export … from`, `import '…'` and
 * `import('…')`, each with its kind. Comments are dropped first, so an `@example` in a doc
 * comment is not an import.
 */
export function importsOf(text: string): { spec: string; kind: ImportKind }[] {
  const code = text.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/^\s*\/\/.*$/gm, '');
  const clause = String.raw`(type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\}|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`;
  const out: { spec: string; kind: ImportKind }[] = [];
  const from = new RegExp(String.raw`^(?:import|export)\s+${clause}\s*from\s*['"]([^'"]+)['"]`, 'gm');
  for (const m of code.matchAll(from))
    out.push({ spec: m[2]!, kind: m[1] === undefined ? 'static' : 'type' });
  for (const m of code.matchAll(/^import\s*['"]([^'"]+)['"]/gm)) out.push({ spec: m[1]!, kind: 'static' });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g))
    out.push({ spec: m[1]!, kind: 'dynamic' });
  return out;
}

/** The specifiers a file imports, of every kind. */
export function importSpecifiers(text: string): string[] {
  return importsOf(text).map((i) => i.spec);
}

/** The files loaded at run time when `start` is loaded: its eager imports, transitively. */
export function eagerClosure(graph: SourceGraph, start: string): string[] {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length > 0) {
    for (const next of graph.get(todo.pop()!)?.eager ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return [...seen].sort();
}

/** The module a file belongs to: the longest module path that is the file or contains it. */
export function moduleOf(path: string, layering: Layering): string | undefined {
  const bare = path.replace(/\.ts$/, '');
  let best: string | undefined;
  for (const r of layering.ranks)
    for (const m of r.modules)
      if ((bare === m || bare.startsWith(`${m}/`)) && (best === undefined || m.length > best.length))
        best = m;
  return best;
}

/** The rank (position) of a module, or undefined. */
export function rankOf(module: string, layering: Layering): number | undefined {
  const i = layering.ranks.findIndex((r) => r.modules.includes(module));
  return i < 0 ? undefined : i;
}

/** Files that belong to no ranked module. */
export function unranked(graph: SourceGraph, layering: Layering): string[] {
  return [...graph.keys()].filter((p) => moduleOf(p, layering) === undefined).sort();
}

/** Ranked modules with no file in the graph: a rank names only what exists. */
export function missingModules(graph: SourceGraph, layering: Layering): string[] {
  const paths = [...graph.keys()];
  return layering.ranks
    .flatMap((r) => r.modules)
    .filter((m) => !paths.some((p) => p === `${m}.ts` || p.startsWith(`${m}/`)));
}

/**
 * Imports that do not go strictly downward: to a module of the same or a higher rank (a module
 * may import itself; peers may import each other). Each as `from -> to (rank a -> b)`.
 */
export function upwardImports(graph: SourceGraph, layering: Layering): string[] {
  const bad: string[] = [];
  for (const f of graph.values()) {
    const from = moduleOf(f.path, layering);
    if (from === undefined) continue;
    for (const target of f.imports) {
      const to = moduleOf(target, layering);
      if (to === undefined || to === from || arePeers(from, to, layering)) continue;
      const a = rankOf(from, layering)!;
      const b = rankOf(to, layering)!;
      if (a <= b) bad.push(`${f.path} -> ${target} (rank ${a} -> ${b})`);
    }
  }
  return bad.sort();
}

function arePeers(a: string, b: string, layering: Layering): boolean {
  return (layering.peers ?? []).some((g) => g.includes(a) && g.includes(b));
}

/** Imports of a restricted module (`onlyFrom`) that reach outside what it may use. */
export function restrictedImports(graph: SourceGraph, layering: Layering): string[] {
  const bad: string[] = [];
  for (const [module, allowed] of Object.entries(layering.onlyFrom ?? {})) {
    for (const f of graph.values()) {
      if (moduleOf(f.path, layering) !== module) continue;
      for (const target of f.imports) {
        const to = moduleOf(target, layering);
        if (to !== module && (to === undefined || !allowed.includes(to)))
          bad.push(`${f.path} -> ${target} (${module} imports only ${allowed.join(', ')})`);
      }
    }
  }
  return bad.sort();
}

/** Built-ins a file imports that its rank does not allow. */
export function forbiddenBuiltins(graph: SourceGraph, layering: Layering): string[] {
  const bad: string[] = [];
  for (const f of graph.values()) {
    const module = moduleOf(f.path, layering);
    if (module === undefined) continue;
    const rank = rankOf(module, layering)!;
    const allowed = layering.ranks[rank]!.builtins;
    for (const b of f.builtins) if (!allowed.includes(b)) bad.push(`${f.path} imports ${b} (rank ${rank})`);
  }
  return bad.sort();
}

/** Imports of packages, or of relative paths that are no file of src/. */
export function foreignImports(graph: SourceGraph): string[] {
  return [...graph.values()].flatMap((f) => f.unresolved.map((s) => `${f.path} imports ${s}`)).sort();
}

/**
 * The import cycles between files: each strongly connected component of more than one file (or
 * a file importing itself), found with Tarjan's algorithm, its files sorted.
 */
export function importCycles(graph: SourceGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  // Iterative, so a long chain of imports cannot overflow the call stack.
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node)?.imports ?? [];
      if (top.edge < edges.length) {
        const w = edges[top.edge++]!;
        if (!graph.has(w)) continue;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, edge: 0 });
        } else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== top.node);
      const selfLoop = graph.get(top.node)?.imports.includes(top.node) ?? false;
      if (component.length > 1 || selfLoop) out.push(component.sort());
    }
  }
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** A file allowed over the line limit, up to `max` lines, and why. */
export interface SizeException {
  readonly max: number;
  readonly why: string;
}

/**
 * Files over `limit` lines (or over their exception's `max`), and exceptions that are no longer
 * needed (the file is gone or within the limit), so the list stays honest.
 */
export function oversized(
  graph: SourceGraph,
  limit: number,
  exceptions: Readonly<Record<string, SizeException>>,
): string[] {
  const bad: string[] = [];
  for (const f of graph.values()) {
    const max = exceptions[f.path]?.max ?? limit;
    if (f.lines > max) bad.push(`${f.path}: ${f.lines} lines (at most ${max})`);
  }
  for (const path of Object.keys(exceptions)) {
    const f = graph.get(path);
    if (f === undefined || f.lines <= limit)
      bad.push(`${path}: listed as an exception but ${f === undefined ? 'absent' : `${f.lines} lines`}`);
  }
  return bad.sort();
}

/** Files without their `@module` comment at the top. */
export function withoutModuleComment(graph: SourceGraph): string[] {
  return [...graph.values()]
    .filter((f) => !f.head.includes('@module'))
    .map((f) => f.path)
    .sort();
}

/**
 * Test helper: a graph from `{ path: [imports] }` (all eager unless `lazy` lists some), with
 * optional built-ins and sizes.
 */
export function graphOf(
  edges: Readonly<Record<string, readonly string[]>>,
  extra: Readonly<
    Record<string, { builtins?: readonly string[]; lines?: number; lazy?: readonly string[] }>
  > = {},
): SourceGraph {
  const g = new Map<string, SourceFile>();
  for (const [path, imports] of Object.entries(edges)) {
    const x = extra[path] ?? {};
    g.set(path, {
      path,
      imports,
      eager: imports.filter((i) => !(x.lazy ?? []).includes(i)),
      builtins: x.builtins ?? [],
      unresolved: [],
      lines: x.lines ?? 10,
      head: `/** @module ${dirname(path)} */`,
    });
  }
  return g;
}
