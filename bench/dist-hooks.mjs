// Module resolution hooks of the bench (registered by bench/use-dist.ts): a module of src/ is
// loaded from its compiled twin in dist/, so the bench measures the build a user installs, not
// a TypeScript transform at run time. The harness itself stays TypeScript under tsx, and imports
// from src/ for its types. An A/B run (bench/ab.ts) points a child at another build's directory
// through `initialize`'s data.
const SRC = new URL('../src/', import.meta.url).href;
let dist = new URL('../dist/', import.meta.url).href;

export function initialize(data) {
  if (data?.dist) dist = data.dist;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  // A build copied outside the package has no package.json saying its .js are modules.
  if (resolved.url.startsWith(dist)) return { ...resolved, format: 'module' };
  if (!resolved.url.startsWith(SRC)) return resolved;
  const path = resolved.url.slice(SRC.length).replace(/[?#].*$/, '');
  return { url: dist + path.replace(/\.[cm]?ts$/, '.js'), format: 'module' };
}
