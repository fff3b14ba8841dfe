/**
 * @module console/timeline
 * The timeline of one group request, in plain SVG: one row per node, a dot at the delay of each
 * of its responses (ms from sending), and the nodes that did not answer marked as silent. The
 * spread of the dots is the members' Leisure at work (RFC 7252 §8.2).
 */

const SVG = 'http://www.w3.org/2000/svg';

/** One row of the plot. */
export interface TimelineRow {
  readonly label: string;
  /** Delays in ms; empty for a silent node. */
  readonly ms: readonly number[];
  readonly error?: boolean;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round step for the axis: 1, 2 or 5 times a power of ten, about five ticks over `span`. */
function step(span: number): number {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? p * 10;
}

/** The plot of `rows` over `spanMs` (at least the largest delay). */
export function timeline(rows: readonly TimelineRow[], spanMs: number): SVGElement {
  const left = 130;
  // Room for half of the last tick's label ("2000 ms"), centred on the axis's end.
  const right = 36;
  const width = 720;
  const rowH = 22;
  const top = 10;
  const height = top + rows.length * rowH + 30;
  const max = Math.max(spanMs, ...rows.flatMap((r) => r.ms), 1);
  const x = (ms: number) => left + ((width - left - right) * ms) / max;
  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `delay of each node's answer, 0 to ${Math.round(max)} ms`,
    'data-testid': 'timeline',
  });
  const axisY = top + rows.length * rowH + 4;
  const s = step(max);
  for (let t = 0; t <= max; t += s) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: top, y2: axisY }));
    root.append(svg('text', { x: x(t), y: axisY + 16, 'text-anchor': 'middle' }, `${t} ms`));
  }
  root.append(svg('line', { class: 'axis', x1: left, x2: width - right, y1: axisY, y2: axisY }));
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    root.append(svg('text', { x: left - 8, y: y + 4, 'text-anchor': 'end' }, r.label));
    if (r.ms.length === 0) {
      root.append(svg('text', { x: left + 6, y: y + 4, class: 'silent-mark' }, 'silent'));
      return;
    }
    for (const ms of r.ms) {
      const dot = svg('circle', { class: r.error ? 'dot error' : 'dot', cx: x(ms), cy: y, r: 5 });
      dot.append(svg('title', {}, `${r.label}: ${Math.round(ms)} ms`));
      root.append(dot);
    }
  });
  return root;
}
