// Drives an async request function with N workers for a warm-up and a measured time; shared by
// the client-throughput scenarios, so our client and node-coap's are measured the same way.
import { percentile } from './stats.js';

export interface DriveResult {
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly completed: number;
  readonly failed: number;
}

/** A request: resolves true for a 2.05, false for anything else (timeouts included). */
export type OneRequest = () => Promise<boolean>;

const MAX_REQUESTS = 5_000_000;

export async function drive(
  one: OneRequest,
  inFlight: number,
  warmupMs: number,
  durationMs: number,
): Promise<DriveResult> {
  const latencies: number[] = [];
  let failed = 0;
  let issued = 0;
  const start = performance.now() + warmupMs;
  const end = start + durationMs;
  const worker = async () => {
    // Bounded by time and by MAX_REQUESTS.
    while (issued < MAX_REQUESTS) {
      const sent = performance.now();
      if (sent >= end) return;
      issued++;
      const ok = await one();
      const done = performance.now();
      if (sent >= start && done <= end) {
        if (ok) latencies.push(done - sent);
        else failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const sorted = Float64Array.from(latencies).sort();
  // Ends early only when MAX_REQUESTS ran out.
  const seconds = (Math.min(end, performance.now()) - start) / 1000;
  return {
    reqPerSec: latencies.length / seconds,
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
    completed: latencies.length,
    failed,
  };
}
