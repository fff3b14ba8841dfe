/**
 * A JSON Schema (draft 2020-12) validator for the keywords the project's schemas use, and no
 * others: a schema with a keyword it does not know is an error, so no constraint is silently
 * skipped. Annotations (`title`, `description`, `$schema`) are read and ignored.
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'additionalProperties',
  'required',
  'items',
  'pattern',
  'minimum',
  'exclusiveMinimum',
  'oneOf',
  '$ref',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, type: string): boolean {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

/** The errors of `value` against `schema` (empty when valid), each with its JSON path. */
export function validate(schema: Schema, value: unknown): string[] {
  return errorsOf(schema, value, schema);
}

/** `$ref`s resolve against `root`. */
function errorsOf(schema: Schema, value: unknown, root: Schema): string[] {
  const errors: string[] = [];
  const check = (s: Schema, v: unknown, at: string): void => {
    for (const k of Object.keys(s)) {
      if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k))
        throw new Error(`unsupported schema keyword ${k} at ${at}`);
    }
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      const target = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]!] : undefined;
      if (target === undefined) throw new Error(`unresolved $ref ${s.$ref}`);
      check(target, v, at);
    }
    if (typeof s.type === 'string' && !matchesType(v, s.type)) {
      errors.push(`${at}: must be ${s.type}`);
      return;
    }
    if (Array.isArray(s.oneOf)) {
      const passing = s.oneOf.filter((sub) => errorsOf(sub as Schema, v, root).length === 0);
      if (passing.length !== 1)
        errors.push(`${at}: must match exactly one of oneOf (${passing.length} match)`);
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) errors.push(`${at}: must be >= ${s.minimum}`);
      if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum)
        errors.push(`${at}: must be > ${s.exclusiveMinimum}`);
    }
    if (typeof v === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) {
      errors.push(`${at}: does not match ${s.pattern}`);
    }
    if (Array.isArray(v) && s.items !== undefined) {
      for (const [i, item] of v.entries()) check(s.items as Schema, item, `${at}[${i}]`);
    }
    if (typeOf(v) === 'object') {
      const o = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in o)) errors.push(`${at}: needs ${r}`);
      for (const [k, item] of Object.entries(o)) {
        if (props[k] !== undefined) check(props[k]!, item, `${at}.${k}`);
        else if (s.additionalProperties === false) errors.push(`${at}.${k}: is not allowed`);
      }
    }
  };
  check(schema, value, '$');
  return errors;
}
