/**
 * @module server/router
 * Path routing: `/lights/:id` binds a parameter, a trailing `/*` matches the rest. Static paths
 * are found with one map lookup; only parameterised routes are scanned, in registration order.
 */
import { InvalidArgumentError } from '../errors.js';

/** A route's pattern, split into segments. */
export interface RoutePattern<T> {
  readonly path: string;
  readonly segments: readonly string[];
  readonly value: T;
  /** The cached match of a static route. */
  match?: RouteMatch<T>;
}

export interface RouteMatch<T> {
  readonly value: T;
  readonly params: Record<string, string>;
}

/** Splits `/a/b` into `['a', 'b']` (`/` is `[]`). */
export function splitPath(path: string): string[] {
  if (!path.startsWith('/'))
    throw new InvalidArgumentError(`route path ${JSON.stringify(path)} must start with /`);
  return path === '/' ? [] : path.slice(1).split('/');
}

export class Router<T> {
  private readonly exact = new Map<string, RoutePattern<T>>();
  private readonly patterns: RoutePattern<T>[] = [];

  add(path: string, value: T): void {
    const segments = splitPath(path);
    const dynamic = segments.some((s, i) => s.startsWith(':') || (s === '*' && i === segments.length - 1));
    const p = { path, segments, value };
    if (!dynamic) {
      const key = segments.join('/');
      if (this.exact.has(key)) throw new InvalidArgumentError(`route ${path} is already registered`);
      this.exact.set(key, p);
    } else {
      if (this.patterns.some((q) => q.path === path))
        throw new InvalidArgumentError(`route ${path} is already registered`);
      this.patterns.push(p);
    }
  }

  get(path: string): T | undefined {
    const segments = splitPath(path);
    const key = segments.join('/');
    return this.exact.get(key)?.value ?? this.patterns.find((p) => p.path === path)?.value;
  }

  remove(path: string): boolean {
    const key = splitPath(path).join('/');
    if (this.exact.delete(key)) return true;
    const i = this.patterns.findIndex((p) => p.path === path);
    if (i >= 0) this.patterns.splice(i, 1);
    return i >= 0;
  }

  /** Finds the route for decoded path segments. */
  match(segments: readonly string[], joined: string): RouteMatch<T> | undefined {
    const hit = this.exact.get(joined);
    // A static route's match is the same every time: made once, not per request.
    if (hit !== undefined)
      return (hit.match ??= { value: hit.value, params: Object.freeze({}) as Record<string, string> });
    for (const p of this.patterns) {
      const params = matchPattern(p.segments, segments);
      if (params !== undefined) return { value: p.value, params };
    }
    return undefined;
  }

  /** Every route, static first. */
  all(): RoutePattern<T>[] {
    return [...this.exact.values(), ...this.patterns];
  }
}

function matchPattern(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*' && i === pattern.length - 1) {
      params['*'] = segments.slice(i).join('/');
      return params;
    }
    const s = segments[i];
    if (s === undefined) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return segments.length === pattern.length ? params : undefined;
}
