// Start-up of the command: wall time of whole processes, from spawn to exit, as a shell runs them
// (a one-shot GET is what users put in loops and cron jobs). Ours is `node bin/coap-group.cjs`
// (the bundled command with its code cache, docs/architecture.md "The package"), beside a
// one-shot GET written with node-coap, libcoap's coap-client, and `node -e 0`: Node alone, the
// floor of any command written for Node. The commands run interleaved, a round at a time, so that
// a change of the machine's load falls on all of them; the median and the fastest run are kept.
// They all ask the raw echo (bench/servers/echo.ts, a child process) on 127.0.0.15.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../config.js';
import type { Row, SectionResult } from '../report/types.js';
import { sibling, spawnTs } from '../servers/spawn.js';

const HOST = '127.0.0.15';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/coap-group.cjs', import.meta.url));

/** node-coap's one-shot GET: the request and the payload printed (its agent closes itself). */
const NODE_COAP_GET = `
const coap = require('coap');
const req = coap.request(process.argv[1]);
req.on('response', (res) => process.stdout.write(res.payload));
req.on('error', (err) => { console.error(err.message); process.exit(1); });
req.end();
`;

interface Command {
  readonly column: string;
  readonly file: string;
  readonly args: readonly string[];
}

/** The environment of a user's shell: none of the bench's loader hooks or npm's variables. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k !== 'NODE_OPTIONS' && !/^npm_/i.test(k) && !k.startsWith('COAP_BENCH')) env[k] = v;
  }
  return env;
}

/** Runs one command to its exit (killed after 10 s); its wall time in ms, or an Error. */
function timed(c: Command, env: NodeJS.ProcessEnv): Promise<number | Error> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(c.file, c.args, { cwd: ROOT, env, stdio: 'ignore', timeout: 10_000 });
    child.once('error', resolve);
    child.once('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve(code === 0 ? ms : new Error(`${c.column} exited ${code ?? signal}`));
    });
  });
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;
const fastest = (xs: readonly number[]) => (xs.length === 0 ? null : Math.min(...xs));

/** Runs `commands` interleaved: `warmup` unmeasured rounds, then `rounds`; times by column. */
async function interleaved(
  commands: readonly Command[],
  warmup: number,
  rounds: number,
  notes: string[],
): Promise<Map<string, number[]>> {
  const env = shellEnv();
  const times = new Map<string, number[]>(commands.map((c) => [c.column, []]));
  const failed = new Set<string>();
  for (let r = 0; r < warmup + rounds; r++) {
    for (const c of commands) {
      if (failed.has(c.column)) continue;
      const t = await timed(c, env);
      if (t instanceof Error) {
        failed.add(c.column);
        times.set(c.column, []);
        notes.push(`${c.column} not measured: ${t.message}`);
      } else if (r >= warmup) times.get(c.column)!.push(t);
    }
  }
  return times;
}

export async function startupSection(cfg: BenchConfig, log: (s: string) => void): Promise<SectionResult> {
  const notes: string[] = [];
  const echo = await spawnTs('raw echo', sibling(import.meta.url, '../servers/echo.ts'), [HOST]);
  const uri = `coap://${HOST}:${echo.port}/x`;
  const node = { column: 'node -e 0', file: process.execPath, args: ['-e', '0'] };
  const rounds = cfg.quick ? 5 : 30;
  const warmup = cfg.quick ? 1 : 3;
  let get: Map<string, number[]>;
  let help: Map<string, number[]>;
  try {
    get = await interleaved(
      [
        node,
        { column: 'ours', file: process.execPath, args: [BIN, 'get', uri] },
        { column: 'node-coap', file: process.execPath, args: ['-e', NODE_COAP_GET, uri] },
        { column: 'libcoap', file: 'coap-client-notls', args: ['-m', 'get', uri] },
      ],
      warmup,
      rounds,
      notes,
    );
    help = await interleaved(
      [node, { column: 'ours', file: process.execPath, args: [BIN, '--help'] }],
      warmup,
      rounds,
      notes,
    );
  } finally {
    await echo.stop();
  }
  const rows: Row[] = [];
  for (const [scenario, times] of [
    ['one-shot GET', get],
    ['--help', help],
  ] as const) {
    for (const [what, pick] of [
      ['median', median],
      ['fastest', fastest],
    ] as const) {
      const values: Record<string, number | null> = {};
      for (const column of ['ours', 'node-coap', 'libcoap', 'node -e 0']) {
        const t = times.get(column);
        values[column] = t === undefined ? null : pick(t);
      }
      rows.push({ scenario: `${scenario}, ${what} of ${rounds}`, unit: 'ms', higherIsBetter: false, values });
      log(
        `  startup ${scenario} ${what}: ${Object.entries(values)
          .map(([k, v]) => `${k} ${v === null ? '-' : v.toFixed(1)}`)
          .join(', ')}`,
      );
    }
  }
  notes.push(
    "Wall time of whole processes, spawn to exit, interleaved round by round. Ours is a checkout's bin/coap-group.cjs, which checks the build's stamp first (about 170 stat calls); the installed command does not.",
  );
  return {
    name: 'startup',
    title: 'Start-up of the command: whole processes, one-shot GET to 127.0.0.15 and --help',
    columns: ['ours', 'node-coap', 'libcoap', 'node -e 0'],
    rows,
    notes,
  };
}
