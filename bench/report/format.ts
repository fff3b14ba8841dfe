// Number formatting for the printed table.

/** A figure in its unit: 45.2k req/s, 812 µs, 3.4 ms, 12.5 MB, 42 B. */
export function formatValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (unit === 'req/s' || unit === 'resp/s' || unit === 'ops/s') {
    if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
    return v.toFixed(0);
  }
  if (unit === 'µs') return v < 100 ? v.toFixed(1) : v.toFixed(0);
  if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(1);
  if (unit === 'MB') return v.toFixed(1);
  return String(Math.round(v * 100) / 100);
}

/** ours/peer as `2.31x`; `-` when either is missing. */
export function formatRatio(ours: number | null | undefined, peer: number | null | undefined): string {
  if (ours == null || peer == null || !Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0)
    return '-';
  return `${(ours / peer).toFixed(2)}x`;
}
