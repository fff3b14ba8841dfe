/**
 * Helpers that check a test closed what it opened: sockets and timers.
 */
import assert from 'node:assert/strict';

function count(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** Takes a snapshot; call the returned function at the end to assert no UDP socket or timer leaked. */
export function trackHandles(): () => Promise<void> {
  const before = count();
  return async () => {
    // Closing is asynchronous; give the event loop a few turns.
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
      const now = count();
      if (
        (now.get('UDPWrap') ?? 0) <= (before.get('UDPWrap') ?? 0) &&
        (now.get('Timeout') ?? 0) <= (before.get('Timeout') ?? 0)
      )
        return;
    }
    const now = count();
    assert.ok(
      (now.get('UDPWrap') ?? 0) <= (before.get('UDPWrap') ?? 0),
      `leaked UDP sockets: ${now.get('UDPWrap')} open, ${before.get('UDPWrap') ?? 0} before`,
    );
    assert.ok(
      (now.get('Timeout') ?? 0) <= (before.get('Timeout') ?? 0),
      `leaked timers: ${now.get('Timeout')} open, ${before.get('Timeout') ?? 0} before`,
    );
  };
}

/** A free-ish random port in the dynamic range, for tests that must pick one (multicast). */
export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 30000);
}
