// Prints a section as a text table: the scenario, our figure, each peer's figure, and ours/peer
// (the first column over each other one: `protected/plain` in the security section).
import { formatRatio, formatValue } from './format.js';
import type { SectionResult } from './types.js';

export function renderSection(s: SectionResult): string {
  const first = s.columns[0] ?? 'ours';
  const peers = s.columns.slice(1);
  const header = ['scenario', 'unit', ...s.columns, ...peers.map((p) => `${first}/${p}`)];
  const body = s.rows.map((r) => [
    r.scenario,
    r.unit,
    ...s.columns.map((c) => formatValue(r.values[c] ?? null, r.unit)),
    ...peers.map((p) => formatRatio(r.values[first], r.values[p])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i < 2 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const out = [`### ${s.title}`, '', line(header), sep, ...body.map(line)];
  if (s.notes.length > 0) out.push('', ...s.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
