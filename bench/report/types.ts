// The shape of bench results: sections of rows, each row one figure for us and for each peer.

export interface Row {
  readonly scenario: string;
  readonly unit: string;
  /** Whether a larger figure is better (throughput) or worse (latency, time, memory). */
  readonly higherIsBetter: boolean;
  /** By column name (`ours` and the peers); null when not measured. */
  readonly values: Readonly<Record<string, number | null>>;
}

export interface SectionResult {
  readonly name: string;
  readonly title: string;
  /** Column names, `ours` first. */
  readonly columns: readonly string[];
  readonly rows: Row[];
  /** Skips, losses and other remarks printed under the table. */
  readonly notes: string[];
}
