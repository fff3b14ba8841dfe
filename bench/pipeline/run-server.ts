// Bench child (run with --expose-gc): measures our server's pipeline in-process
// (bench/pipeline/server.ts), CON and NON, and prints one JSON line of the figures.
// Usage: run-server.ts CPU_REQUESTS
import { CoapServer } from '../../src/index.js';
import { measureServerPipeline } from './server.js';

const cpuRequests = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('run-server.ts: needs node --expose-gc\n');
  process.exit(2);
}
const heapUsed = () => process.memoryUsage().heapUsed;
const con = await measureServerPipeline({ CoapServer }, true, cpuRequests, gc, heapUsed);
const non = await measureServerPipeline({ CoapServer }, false, cpuRequests, gc, heapUsed);
process.stdout.write(`${JSON.stringify({ con, non })}\n`);
