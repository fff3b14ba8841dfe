/**
 * @module cli/serve-config
 * The `serve --config FILE` document, checked field by field so that a mistake is reported with
 * its place. The format is documented in docs/serve-config.md, and docs/serve-config.schema.json
 * describes the same document as a JSON Schema (a test keeps the two in agreement).
 */
import { readFileSync } from 'node:fs';
import { parseGroupSpec, type SuppressionPolicy } from '../index.js';
import { UsageError } from './usage.js';

export interface ResourceConfig {
  path: string;
  value: string;
  rt?: string;
  title?: string;
  multicast?: boolean | Partial<SuppressionPolicy>;
}

export interface ServeConfig {
  leisure?: number;
  join?: string[];
  resources: ResourceConfig[];
}

const RESOURCE_KEYS = new Set(['path', 'value', 'rt', 'title', 'multicast']);
const SUPPRESS_KEYS = new Set(['success', 'clientError', 'serverError', 'emptyContent']);

function fail(file: string, where: string, what: string): never {
  throw new UsageError(`--config ${file}: ${where} ${what}`, 'see coap-group serve --help');
}

/** Reads and validates a config file. */
export function readServeConfig(file: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --config ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  return parseServeConfig(text, file);
}

/** Validates the text of a config file; `file` names it in messages. */
export function parseServeConfig(text: string, file: string): ServeConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(file, 'is not JSON:', (err as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    fail(file, 'top level', 'must be an object');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['$schema', 'leisure', 'join', 'resources'].includes(k))
      fail(file, `key "${k}"`, 'is unknown (use leisure, join, resources)');
  // "$schema" points an editor at docs/serve-config.schema.json; the node ignores it.
  if (o.$schema !== undefined && typeof o.$schema !== 'string') fail(file, '"$schema"', 'must be a string');
  const out: ServeConfig = { resources: [] };
  if (o.leisure !== undefined) {
    if (typeof o.leisure !== 'number' || !(o.leisure > 0))
      fail(file, '"leisure"', 'must be a number of seconds above 0');
    out.leisure = o.leisure;
  }
  if (o.join !== undefined) {
    if (!Array.isArray(o.join) || o.join.some((g) => typeof g !== 'string'))
      fail(file, '"join"', 'must be an array of group strings');
    (o.join as string[]).forEach((g, i) => {
      try {
        parseGroupSpec(g);
      } catch (err) {
        fail(file, `join[${i}]`, (err as Error).message);
      }
    });
    out.join = o.join as string[];
  }
  if (o.resources !== undefined) {
    if (!Array.isArray(o.resources)) fail(file, '"resources"', 'must be an array');
    o.resources.forEach((r: unknown, i: number) => {
      const where = `resources[${i}]`;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) fail(file, where, 'must be an object');
      const rr = r as Record<string, unknown>;
      for (const k of Object.keys(rr)) if (!RESOURCE_KEYS.has(k)) fail(file, `${where}.${k}`, 'is unknown');
      if (typeof rr.path !== 'string' || !rr.path.startsWith('/'))
        fail(file, `${where}.path`, 'must be a string starting with /');
      const res: ResourceConfig = { path: rr.path, value: '' };
      if (rr.value !== undefined) {
        if (typeof rr.value !== 'string') fail(file, `${where}.value`, 'must be a string');
        res.value = rr.value;
      }
      for (const k of ['rt', 'title'] as const) {
        if (rr[k] !== undefined) {
          if (typeof rr[k] !== 'string') fail(file, `${where}.${k}`, 'must be a string');
          res[k] = rr[k] as string;
        }
      }
      const m = rr.multicast;
      if (m !== undefined) {
        if (typeof m === 'boolean') res.multicast = m;
        else if (typeof m === 'object' && m !== null && !Array.isArray(m)) {
          const p: Record<string, boolean> = {};
          for (const [k, v] of Object.entries(m)) {
            if (!SUPPRESS_KEYS.has(k))
              fail(
                file,
                `${where}.multicast.${k}`,
                'is unknown (success, clientError, serverError, emptyContent)',
              );
            if (typeof v !== 'boolean') fail(file, `${where}.multicast.${k}`, 'must be true or false');
            p[k] = v;
          }
          res.multicast = p;
        } else fail(file, `${where}.multicast`, 'must be true, false or an object of suppression switches');
      }
      out.resources.push(res);
    });
  }
  return out;
}
