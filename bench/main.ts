// The bench (`npm run bench`, `npm run bench -- --quick`; started by bench/run.ts, which makes the
// library load from dist/): runs the sections, prints one table per section with our figure, the
// peers' and the ratios, and writes the JSON results. Everything is sent to loopback addresses
// only; every child process is stopped at the end.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type Section } from './config.js';
import { guardChecks, renderGuard } from './guard.js';
import { renderSection } from './report/table.js';
import type { SectionResult } from './report/types.js';
import { writeResults } from './report/write.js';
import { blockSection } from './scenarios/block.js';
import { clientSection } from './scenarios/client.js';
import { codecSection } from './scenarios/codec.js';
import { fanoutSection } from './scenarios/fanout.js';
import { gatewaySection } from './scenarios/gateway.js';
import { pipelineSection } from './scenarios/pipeline.js';
import { proxySection } from './scenarios/proxy.js';
import { rdSection } from './scenarios/rd.js';
import { securitySection } from './scenarios/security.js';
import { serverSection } from './scenarios/server.js';
import { startupSection } from './scenarios/startup.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cfg = parseArgs(process.argv.slice(2), root);
const log = (s: string) => process.stderr.write(`${s}\n`);
const started = performance.now();
const loadAtStart = loadavg();
log(
  `coap-group bench (${cfg.quick ? 'quick' : 'full'} mode), node ${process.version}, library from dist/ (tsc), load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
);

const runners = {
  pipeline: pipelineSection,
  server: serverSection,
  client: clientSection,
  codec: codecSection,
  fanout: fanoutSection,
  block: blockSection,
  security: securitySection,
  rd: rdSection,
  proxy: proxySection,
  gateway: gatewaySection,
  startup: startupSection,
} as const satisfies Record<Section, unknown>;
const sections: SectionResult[] = [];
for (const [name, run] of Object.entries(runners)) {
  if (!cfg.sections.has(name as Section)) continue;
  log(`-- ${name}`);
  sections.push(await run(cfg, log));
}

const checks = guardChecks(sections);
console.log([...sections.map(renderSection), renderGuard(checks)].join('\n\n'));
const file = writeResults(
  join(root, 'bench', 'results'),
  cfg.quick ? 'quick' : 'full',
  sections,
  loadAtStart,
);
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
log(`\nload average now ${load}; ${((performance.now() - started) / 1000).toFixed(1)} s; results: ${file}`);
if (cfg.profileDir) {
  log(
    `CPU profiles: ${cfg.profileDir} (summarise: npx tsx bench/profile-top.ts ${cfg.profileDir}/server-ours)`,
  );
}
const failed = checks.filter((c) => !c.ok);
if (failed.length > 0) {
  log(
    `regression guard: ${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.what).join('; ')}`,
  );
  process.exitCode = 1;
}
