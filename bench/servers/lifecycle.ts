// Shared by every bench child process: prints the readiness line, answers "mem" on stdin with its
// memory use, and exits cleanly (so --cpu-prof can write its profile) on SIGTERM, SIGINT or when
// the parent goes away (stdin closes).

/** Prints `ready <port>` and arranges for `close` to run before the process exits. */
export function serveUntilStopped(port: number, close: () => Promise<void> | void): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Bounded: exit even if close() hangs.
    setTimeout(() => process.exit(0), 2000).unref();
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (chunk.includes('mem')) {
      const m = process.memoryUsage();
      const peakKb = process.resourceUsage().maxRSS;
      process.stdout.write(
        `mem ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, peakRss: peakKb * 1024 })}\n`,
      );
    }
  });
  process.stdin.on('end', stop);
  process.stdout.write(`ready ${port}\n`);
}
