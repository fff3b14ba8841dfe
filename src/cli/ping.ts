/**
 * @module cli/ping
 * `coap-group ping URI`: a CoAP ping, an empty Confirmable message that any CoAP endpoint answers
 * with a Reset (RFC 7252 §4.2, §4.3). Unicast only: a Confirmable message never goes to a group
 * (RFC 7252 §8.1). Exit 0 when the node answered, 3 when it did not.
 */

import { parseUri } from '../entry/codec.js';
import { CoapClient, isMulticast, resolveHost, systemResolver } from '../index.js';
import { endpoint } from './output.js';
import type { Session } from './session.js';
import { Exit, parseCommand, seconds, UsageError } from './usage.js';

const OPTIONS = {
  timeout: { type: 'string' },
  source: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runPing(argv: string[], session: Session): Promise<number> {
  const { values, positionals } = parseCommand('ping', argv, OPTIONS, 1);
  const text = positionals[0];
  if (text === undefined) throw new UsageError('ping needs a URI', 'e.g. coap-group ping coap://127.0.0.2');
  const timeout = seconds('timeout', values.timeout);
  const uri = parseUri(text);
  const address = await resolveHost(uri.host, systemResolver);
  if (isMulticast(address)) {
    throw new UsageError(
      `${text} is a group: a ping is Confirmable, and Confirmable messages never go to a group (RFC 7252 §8.1)`,
      'ping one node, or ask the group with coap-group discover',
    );
  }
  const peer = endpoint({ address, port: uri.port });
  const client = await CoapClient.create({
    ...(values.source !== undefined ? { bind: [{ address: values.source, port: 0 }] } : {}),
  });
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    // Closing the client ends a ping still waiting (false); a timeout or a stop close it.
    const stop = new Promise<false>((resolve) => {
      if (timeout !== undefined) timer = setTimeout(() => resolve(false), timeout * 1000);
      session.signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    const answered = await Promise.race([client.ping(text), stop]);
    if (session.signal.aborted) return Exit.OK; // main turns the stop into its status
    if (!answered) {
      const within = timeout !== undefined ? ` within ${timeout} s` : '';
      process.stderr.write(
        `coap-group: no response from ${peer}${within} (check the address and port, and that a CoAP node runs there)\n`,
      );
      return Exit.TIMEOUT;
    }
    process.stdout.write(`${peer} answered in ${Math.round(performance.now() - started)} ms\n`);
    return Exit.OK;
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}
