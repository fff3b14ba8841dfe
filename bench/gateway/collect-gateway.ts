// Bench child: fetch asks our HTTP gateway (at 127.0.0.1:GW_PORT) for GET /bench/hello on
// 224.0.1.187:PORT as server-sent events, and times each collection from sending the HTTP
// request to the N-th response event; then it leaves, which ends the group request. REPS times.
// Prints one JSON line, as the fan-out collectors do.
// Usage: collect-gateway.ts GW_PORT PORT N LEISURE_MS REPS
import { collectLoop } from '../fanout/measure.js';

const [gwPort, port, n, leisureMs, reps] = process.argv.slice(2, 7).map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const url = `http://127.0.0.1:${gwPort}/hc/coap://224.0.1.187:${port}/bench/hello`;
// Whole seconds (groupcomm-proxy §2): the Leisure and a margin, as the direct collector's window.
const timeout = Math.ceil((leisureMs + 3000) / 1000);
const result = await collectLoop(reps, leisureMs, async () => {
  const stop = new AbortController();
  const res = await fetch(url, {
    headers: { 'Multicast-Timeout': String(timeout), Accept: 'text/event-stream' },
    signal: stop.signal,
  });
  if (res.status !== 200 || res.body === null) throw new Error(`the gateway answered ${res.status}`);
  let count = 0;
  let text = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      text += decoder.decode(chunk, { stream: true });
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (block.startsWith('event: response') && block.includes('"code":"2.05"')) count++;
        if (block.startsWith('event: summary')) return count;
      }
      if (count >= n) return count;
    }
    return count;
  } finally {
    stop.abort();
  }
});
process.stdout.write(`${JSON.stringify(result)}\n`);
