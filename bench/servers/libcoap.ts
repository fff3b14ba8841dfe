// Starts libcoap's example server (`coap-server-notls`, from libcoap3-bin) on a loopback address
// and creates /bench/hello on it with a PUT (its -d option allows dynamic resources), so it serves
// the same resource as the other servers. Returns undefined with a reason when it is missing.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CODE_PUT, CON, readResponse, requestBytes } from '../load/wire.js';
import type { Child } from './spawn.js';

const BINARY = 'coap-server-notls';

/** The binary's path on PATH, or undefined. */
export function findLibcoap(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, BINARY);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export const LIBCOAP_MISSING = `libcoap: ${BINARY} not found; install it with: apt-get install libcoap3-bin`;

async function freePort(host: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: host, port: 0 }, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** PUTs `body` to `path` until a 2.xx answer; false after `tries` attempts 100 ms apart. */
export async function putResource(
  host: string,
  port: number,
  path: readonly string[],
  body: Buffer,
  tries = 30,
): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
  try {
    for (let i = 0; i < tries; i++) {
      const token = Buffer.from([0xbe, 0x0c, 0, i]);
      const req = requestBytes({
        type: CON,
        code: CODE_PUT,
        messageId: 0x4000 + i,
        token,
        path,
        payload: body,
      });
      const answer = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => done(false), 100);
        const onMsg = (b: Buffer) => {
          const r = readResponse(b);
          if (r?.token.equals(token)) done(r.code >> 5 === 2);
        };
        const done = (ok: boolean) => {
          clearTimeout(t);
          s.off('message', onMsg);
          resolve(ok);
        };
        s.on('message', onMsg);
      });
      s.send(req, port, host);
      if (await answer) return true;
    }
    return false;
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Starts libcoap's server with /bench/hello = "hello world". */
export async function startLibcoap(host: string): Promise<Child> {
  const bin = findLibcoap();
  if (bin === undefined) throw new Error(LIBCOAP_MISSING);
  const port = await freePort(host);
  const proc = spawn(bin, ['-A', host, '-p', String(port), '-d', '8', '-v', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const ok = await putResource(host, port, ['bench', 'hello'], Buffer.from('hello world'));
  if (!ok) {
    await stop();
    throw new Error(`libcoap: ${BINARY} on ${host}:${port} did not accept the PUT of /bench/hello`);
  }
  return {
    name: 'libcoap',
    port,
    proc,
    memory: async () => undefined,
    stop,
  };
}
