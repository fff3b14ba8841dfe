/**
 * @module cli/groups-report
 * The output of `coap-group groups`: one line, a table of the node's memberships (RFC 7390
 * §2.6.2.1), or one JSON object per command (design.md §CLI contract), and the exit status a
 * response means (a 4.xx/5.xx is exit 1; 5.03 says when to try again, its Max-Age, RFC 7390 §6.2).
 */

import { formatMembership, type MembershipCollection, parseCollection, pathString } from '../entry/codec.js';
import { CoapError, type CoapResponse, type CoapUri, findOptions, Opt } from '../index.js';
import { endpoint } from './output.js';
import { Exit } from './usage.js';

/** The commands of `coap-group groups`. */
export type Sub = 'list' | 'add' | 'update' | 'remove' | 'replace';

/** Where output goes; tests pass their own. */
export interface GroupsIo {
  out(text: string): void;
  err(text: string): void;
}

/** What the report of a command needs besides its response. */
export interface Context {
  uri: CoapUri;
  index: string | undefined;
  count: number | undefined;
  json: boolean;
}

/** Prints the outcome of `sub` (text or `--json`) and returns the exit status. */
export function report(io: GroupsIo, sub: Sub, res: CoapResponse, c: Context): number {
  const base = { from: endpoint(res.source), code: res.codeString };
  if (!res.ok) {
    const diag = res.text();
    const retry = res.codeString === '5.03' ? res.maxAge : undefined;
    if (c.json) {
      io.out(
        `${JSON.stringify({ ...base, error: diag, ...(retry !== undefined ? { retryAfter: retry } : {}) })}\n`,
      );
    } else {
      const hint = retry !== undefined ? ` (try again in ${retry} s)` : '';
      io.err(`coap-group: ${res.codeString} ${res.reason}${diag ? `: ${diag}` : ''}${hint}\n`);
    }
    return Exit.RESPONSE_ERROR;
  }
  const line = (o: object, text: string) =>
    io.out(c.json ? `${JSON.stringify({ ...base, ...o })}\n` : `${text}\n`);
  switch (sub) {
    case 'list': {
      let groups: MembershipCollection;
      try {
        groups = parseCollection(res.payload);
      } catch (err) {
        throw new CoapError(
          'ERR_COAP_PAYLOAD_FORMAT',
          `${endpoint(res.source)} answered with a payload that is not application/coap-group+json: ${(err as Error).message}`,
        );
      }
      const rows = [...groups].map(([index, m]) => ({ index, ...JSON.parse(formatMembership(m)) }));
      line({ groups: rows }, table(rows));
      break;
    }
    case 'add': {
      const path = findOptions(res.options, Opt.LocationPath).map((o) => o.value.toString('utf8'));
      const index = path[path.length - 1] ?? '?';
      line({ index, location: pathString(path) }, `added index ${index} (${pathString(path)})`);
      break;
    }
    case 'update':
      line({ index: c.index }, `${res.codeString === '2.01' ? 'created' : 'updated'} index ${c.index}`);
      break;
    case 'remove':
      line({ index: c.index }, `removed index ${c.index}`);
      break;
    case 'replace':
      line({ groups: c.count }, `replaced all memberships: ${c.count} now (${pathString(c.uri.path)})`);
      break;
  }
  return Exit.OK;
}

/** A table with a header, columns padded to their widest cell. */
function table(rows: ReadonlyArray<{ index: string; a?: string; n?: string }>): string {
  if (rows.length === 0) return 'no group memberships';
  const cells = [['INDEX', 'ADDRESS', 'NAME'], ...rows.map((r) => [r.index, r.a ?? '-', r.n ?? '-'])];
  const widths = [0, 1].map((i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`)
    .join('\n');
}
