// The heap one registration holds in the directory itself, measured in this process: 10 000
// registrations of 10 links made directly on the directory's state (the path a CoAP
// registration takes after parsing, without the message layer), after a full GC before and
// after. The figure in the child process adds what the message layer keeps for each request
// for EXCHANGE_LIFETIME (deduplication, RFC 7252 §4.5).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseLinks } from '../../src/link-format/index.js';
import { RdService } from '../../src/rd/service.js';
import { VolatileRdStore } from '../../src/rd/store.js';
import { systemRuntime } from '../../src/runtime.js';

/** A full GC, exposed for this call only. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  const run = runInNewContext('gc') as () => void;
  run();
  run();
}

/** Bytes of heap per registration of `payload(i)`, over `n` registrations. */
export async function directoryHeapPerRegistration(
  n: number,
  payload: (i: number) => Buffer,
): Promise<number> {
  const service = new RdService({
    store: new VolatileRdStore(),
    runtime: systemRuntime,
    wallClock: Date.now,
    prefix: '/rd',
    maxObservedQueries: 16,
    maxLookupsInFlight: 8,
    notify: () => {},
  });
  await service.load(undefined);
  const texts = Array.from({ length: n }, (_, i) => payload(i).toString('utf8'));
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    const id = service.dir.allocateId();
    await service.put(
      service.make({
        id,
        order: Number(id),
        ep: `n${i}`,
        d: 'bench',
        base: 'coap://127.0.0.1:40000',
        baseGiven: false,
        lt: 86400,
        attributes: [],
        links: parseLinks(texts[i]!),
        owner: 'addr:127.0.0.1',
        simple: false,
        expiresAt: systemRuntime.now() + 86_400_000,
      }),
    );
  }
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  service.close();
  return bytes;
}
