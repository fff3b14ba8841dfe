/**
 * For the resource directory's command-line tests: wait for a line a running
 * `coap-group serve`/`rd` prints on stderr (bounded), and start `coap-group rd` on a random port.
 */
import { type ServeNode, startServe } from './cli-run.js';
import { randomPort } from './handles.js';

/** Waits until `node` has printed a line matching `re` on stderr; rejects after `timeoutMs`. */
export async function printed(node: ServeNode, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = node
      .output()
      .stderr.split('\n')
      .find((l) => re.test(l));
    if (line !== undefined) return line;
    if (Date.now() > until) throw new Error(`no line ${re} in time; stderr:\n${node.output().stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `coap-group rd --bind address`, trying another port when the random one is taken. */
export async function startRd(
  address: string,
  extra: readonly string[] = [],
): Promise<{ rd: ServeNode; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = randomPort();
    try {
      const rd = await startServe(
        ['--bind', address, '--port', String(port), '--leisure', '0.2', ...extra],
        15_000,
        'rd',
      );
      return { rd, port };
    } catch (err) {
      if (attempt >= 2 || !/cannot bind/.test((err as Error).message)) throw err;
    }
  }
}
