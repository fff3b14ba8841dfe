// Module resolution hooks of the bench (registered by bench/use-dist.ts): a module of src/ is
// loaded from its compiled twin in dist/, so the bench measures the build a user installs, not
// a TypeScript transform at run time. The harness itself stays TypeScript under tsx, and imports
// from src/ for its types.
const SRC = new URL('../src/', import.meta.url).href;
const DIST = new URL('../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(SRC)) return resolved;
  const path = resolved.url.slice(SRC.length).replace(/[?#].*$/, '');
  return { url: DIST + path.replace(/\.[cm]?ts$/, '.js'), format: 'module' };
}
