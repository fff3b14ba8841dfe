/**
 * A packet capture of UDP, IGMP and MLD on one interface, for tests that must show what did (or
 * did not) go on the wire. It runs `dumpcap` (Wireshark's capture engine, installed with tshark),
 * which also works as the mapped root of `unshare -rn` where tcpdump cannot drop its privileges,
 * and reads its libpcap output from a pipe as it comes. Use it only inside a private network
 * namespace (test/support/netns.ts, topology.ts), where the only traffic is the test's own.
 *
 * `start()` returns once a marker datagram sent after start-up has been captured, so nothing the
 * test sends afterwards can be missed; `mark(label)` does the same at any point, which splits the
 * capture into phases; `stop()` ends dumpcap and returns every datagram. On `lo` the marker goes
 * to 127.0.0.1; on another interface to ff02::1 on that interface, so it is seen leaving there.
 *
 * Each datagram carries its IPv4 TTL or IPv6 hop limit; IGMP and MLD membership reports
 * (RFC 3376, RFC 3810; RFC 7390 Appendix A) are decoded into the groups they join and leave.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { type CapturedDatagram, type MembershipReport, PcapReader } from './pcap.js';

export type { CapturedDatagram, GroupChange, MembershipReport } from './pcap.js';

/** Why a capture cannot run here, or undefined when it can. */
export function captureUnavailable(): string | undefined {
  const r = spawnSync('dumpcap', ['-v'], { encoding: 'utf8' });
  if (r.error) return `dumpcap (from tshark / wireshark-common) is not installed: ${r.error.message}`;
  return r.status === 0 ? undefined : `dumpcap -v failed: ${r.stderr.trim()}`;
}

/** The port marker datagrams go to on 127.0.0.1 (discard, RFC 863); nothing listens there. */
const MARK_PORT = 9;
const MARK_TRIES = 200;
const MARK_EVERY_MS = 25;

/** A running capture. */
export interface Capture {
  /** Every datagram captured so far. */
  readonly datagrams: readonly CapturedDatagram[];
  /** Every IGMP / MLD membership report captured so far. */
  readonly reports: readonly MembershipReport[];
  /** Resolves once a report matching `test` is captured, or rejects after `timeoutMs`. */
  waitForReport(test: (r: MembershipReport) => boolean, timeoutMs?: number): Promise<MembershipReport>;
  /** Sends a marker datagram carrying `label` and resolves once it has been captured; returns its index. */
  mark(label: string): Promise<number>;
  /** Ends dumpcap; resolves with every datagram captured. */
  stop(): Promise<readonly CapturedDatagram[]>;
}

/** The marker's socket and destination: 127.0.0.1 on lo, ff02::1 on any other interface. */
async function markerSocket(iface: string): Promise<{ sock: Socket; send: (b: Buffer) => void }> {
  if (iface === 'lo') {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return { sock, send: (b) => sock.send(b, MARK_PORT, '127.0.0.1') };
  }
  const sock = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => sock.bind(0, '::', resolve));
  // Pinned to the captured interface, one hop: the marker stays on that link.
  sock.setMulticastInterface(`::%${iface}`);
  sock.setMulticastTTL(1);
  return { sock, send: (b) => sock.send(b, MARK_PORT, `ff02::1%${iface}`) };
}

/**
 * Starts capturing UDP, IGMP and ICMPv6 (MLD comes behind a Hop-by-Hop header, hence `protochain`) on `iface` (default `lo`). Resolves once a first marker
 * is captured.
 * @throws when dumpcap exits, or no marker is captured within MARK_TRIES * MARK_EVERY_MS.
 */
export async function startCapture(iface = 'lo'): Promise<Capture> {
  const child: ChildProcess = spawn(
    'dumpcap',
    ['-q', '-P', '-i', iface, '-f', 'udp or igmp or ip6 protochain 58', '-w', '-'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const reader = new PcapReader();
  let stderr = '';
  let failure: Error | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    try {
      reader.push(d);
    } catch (err) {
      failure = err as Error;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const { sock, send } = await markerSocket(iface);

  const mark = async (label: string): Promise<number> => {
    const bytes = Buffer.from(`capture-mark ${label}`);
    const seen = () => reader.datagrams.findIndex((d) => d.dstPort === MARK_PORT && d.payload.equals(bytes));
    for (let i = 0; i < MARK_TRIES; i++) {
      if (failure) throw failure;
      if (!running) throw new Error(`dumpcap exited: ${stderr.trim()}`);
      const at = seen();
      if (at >= 0) return at;
      // Sent again until seen: the first ones may precede the start of the capture.
      send(bytes);
      await new Promise((r) => setTimeout(r, MARK_EVERY_MS));
    }
    throw new Error(`marker ${label} was not captured: ${stderr.trim()}`);
  };

  let stopping: Promise<readonly CapturedDatagram[]> | undefined;
  /** Idempotent: a test and its `after` hook may both call it. */
  const stop = (): Promise<readonly CapturedDatagram[]> => {
    stopping ??= (async () => {
      sock.close();
      if (running) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(hard);
      }
      if (failure) throw failure;
      return reader.datagrams;
    })();
    return stopping;
  };

  const waitForReport = async (test: (r: MembershipReport) => boolean, timeoutMs = 10_000) => {
    // Bounded: every round waits MARK_EVERY_MS.
    for (let waited = 0; waited <= timeoutMs; waited += MARK_EVERY_MS) {
      if (failure) throw failure;
      const found = reader.reports.find(test);
      if (found !== undefined) return found;
      if (!running) break;
      await new Promise((r) => setTimeout(r, MARK_EVERY_MS));
    }
    throw new Error(
      `no such membership report on ${iface} within ${timeoutMs} ms; captured: ${JSON.stringify(reader.reports)}`,
    );
  };

  try {
    await mark('start');
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { datagrams: reader.datagrams, reports: reader.reports, waitForReport, mark, stop };
}
