// Writes the results as JSON: bench/results/<timestamp>.json and bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { SectionResult } from './types.js';

export function writeResults(
  dir: string,
  mode: 'quick' | 'full',
  sections: readonly SectionResult[],
  loadAtStart: readonly number[],
): string {
  mkdirSync(dir, { recursive: true });
  const timestamp = new Date().toISOString();
  const doc = {
    version: 1,
    timestamp,
    mode,
    node: process.version,
    /** The measured library: the compiled build in dist/ (bench/run.ts), as a user installs it. */
    library: 'dist',
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    /** 1/5/15-minute load averages when the run started and ended: other work skews the figures. */
    loadavg: { start: loadAtStart, end: loadavg() },
    sections,
  };
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const file = join(dir, `${timestamp.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}
