/**
 * @module console/links
 * Reading the CoRE Link Format (RFC 6690 §2) the nodes and the resource directory answer, for
 * display: each link's target and its attributes (`rt`, `if`, `ct`, `obs`, `anchor`, `ep`,
 * `base`, `d`, `et`). Quoted strings may hold commas and semicolons.
 */

/** One link: its target and its attributes in order (a bare attribute has the value ''). */
export interface Link {
  readonly href: string;
  readonly attrs: ReadonlyArray<readonly [string, string]>;
}

/** The first value of attribute `name`, or undefined. */
export function attr(link: Link, name: string): string | undefined {
  return link.attrs.find(([k]) => k === name)?.[1];
}

/** Parses a link-format document; what cannot be read ends the list. */
export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(text[i]!)) i++;
  };
  while (i < n) {
    skipSpace();
    if (text[i] !== '<') break;
    const end = text.indexOf('>', i);
    if (end < 0) break;
    const href = text.slice(i + 1, end);
    i = end + 1;
    const attrs: Array<[string, string]> = [];
    while (i < n && text[i] === ';') {
      i++;
      const m = /^[A-Za-z0-9!#$&+.^_`|~*-]+/.exec(text.slice(i));
      if (m === null) break;
      const name = m[0];
      i += name.length;
      let v = '';
      if (text[i] === '=') {
        i++;
        if (text[i] === '"') {
          i++;
          while (i < n && text[i] !== '"') {
            if (text[i] === '\\') i++;
            v += text[i] ?? '';
            i++;
          }
          i++;
        } else {
          const t = /^[^;,]*/.exec(text.slice(i))![0];
          v = t;
          i += t.length;
        }
      }
      attrs.push([name, v]);
    }
    links.push({ href, attrs });
    skipSpace();
    if (text[i] === ',') i++;
  }
  return links;
}

/** A link as one short line: `</light> rt=light ct=0 obs`. */
export function linkText(link: Link, shown: readonly string[] = ['rt', 'if', 'ct', 'obs']): string {
  const parts = [`<${link.href}>`];
  for (const [k, v] of link.attrs) if (shown.includes(k)) parts.push(v === '' ? k : `${k}=${v}`);
  return parts.join(' ');
}
