// Command-line settings of the bench: --quick (about 1 s per scenario, small N, for CI), --profile
// (CPU-profile our server child), --only=pipeline,server,client,codec,fanout,block,security,rd,proxy,
// gateway,startup, --fanout=N,N,... (group sizes).
import { join } from 'node:path';

export const SECTIONS = [
  'pipeline',
  'server',
  'client',
  'codec',
  'fanout',
  'block',
  'security',
  'rd',
  'proxy',
  'gateway',
  'startup',
] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchConfig {
  readonly quick: boolean;
  /** Measured time of one load scenario, ms. */
  readonly durationMs: number;
  /** Unmeasured warm-up before it, ms. */
  readonly warmupMs: number;
  /** Time per codec operation, ms. */
  readonly codecMs: number;
  /** Interleaved rounds of the load scenarios; the best round of each is kept. */
  readonly rounds: number;
  /** Group sizes for fan-out. */
  readonly fanoutSizes: readonly number[];
  /** Group requests per size (median reported). */
  readonly fanoutReps: number;
  /** Size of the block-wise transfer, bytes (1 MiB; 256 KiB in quick mode). */
  readonly blockBytes: number;
  /** Write CPU profiles of our server child here, when set. */
  readonly profileDir: string | undefined;
  readonly sections: ReadonlySet<Section>;
}

export function parseArgs(argv: readonly string[], root: string): BenchConfig {
  const quick = argv.includes('--quick');
  const profile = argv.includes('--profile');
  const only = argv.find((a) => a.startsWith('--only='));
  const fanout = argv.find((a) => a.startsWith('--fanout='));
  const sizes = fanout?.slice('--fanout='.length).split(',').map(Number);
  if (sizes?.some((n) => !Number.isInteger(n) || n < 1 || n > 4000)) {
    throw new Error(`--fanout takes group sizes from 1 to 4000, e.g. --fanout=5,50,200`);
  }
  const sections = new Set<Section>(SECTIONS);
  if (only !== undefined) {
    sections.clear();
    for (const s of only.slice('--only='.length).split(',')) {
      if (!(SECTIONS as readonly string[]).includes(s)) {
        throw new Error(`unknown section ${s}; use --only=${SECTIONS.join(',')}`);
      }
      sections.add(s as Section);
    }
  }
  return {
    quick,
    durationMs: quick ? 500 : 2500,
    warmupMs: quick ? 150 : 400,
    rounds: quick ? 1 : 2,
    codecMs: quick ? 100 : 500,
    fanoutSizes: sizes ?? (quick ? [10, 100] : [10, 100, 1000]),
    fanoutReps: quick ? 2 : 3,
    blockBytes: quick ? 256 * 1024 : 1024 * 1024,
    profileDir: profile
      ? join(root, 'bench', 'results', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'))
      : undefined,
    sections,
  };
}
