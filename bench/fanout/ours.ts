// One collection by our client: GET /bench/hello to 224.0.1.187:PORT until N 2.05 responses
// arrived or the window (Leisure + 3 s) closed. Shared by the fan-out children that time it,
// count its allocations and profile it.
import type { CoapClient } from '../../src/index.js';

/** Resolves with the number of 2.05 responses collected. */
export async function collectOurs(
  client: CoapClient,
  port: number,
  n: number,
  leisureMs: number,
): Promise<number> {
  let count = 0;
  const responses = client.group({
    uri: `coap://224.0.1.187:${port}/bench/hello`,
    window: leisureMs + 3000,
    limit: n,
  });
  for await (const r of responses) if (r.code === 0x45) count++;
  return count;
}
