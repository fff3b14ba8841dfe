// Counts the public-key and key-derivation operations of node:crypto made in this process while
// a counter is on: signatures, verifications, key agreements, key parses and HKDF calls. It wraps
// the functions of the `node:crypto` module and syncs its ESM bindings (node:module
// syncBuiltinESMExports), so modules that imported them by name call the wrappers too; the
// wrappers only count and call through. For the security bench: what one request costs.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const OPS = ['sign', 'verify', 'diffieHellman', 'createPublicKey', 'createPrivateKey', 'hkdfSync'] as const;
export type CryptoOp = (typeof OPS)[number];
export type CryptoCounts = Record<CryptoOp, number>;

const zero = (): CryptoCounts => Object.fromEntries(OPS.map((op) => [op, 0])) as unknown as CryptoCounts;

export interface CryptoCounter {
  /** Counts the calls made while `run` runs (awaited). */
  count(run: () => Promise<void>): Promise<CryptoCounts>;
  /** Puts node:crypto's own functions back. */
  restore(): void;
}

export function installCryptoCounter(): CryptoCounter {
  const crypto = createRequire(import.meta.url)('node:crypto') as Record<string, unknown>;
  const originals = new Map<CryptoOp, unknown>();
  let counts: CryptoCounts | undefined;
  for (const op of OPS) {
    const original = crypto[op] as (...args: unknown[]) => unknown;
    originals.set(op, original);
    crypto[op] = function counted(this: unknown, ...args: unknown[]) {
      if (counts !== undefined) counts[op]++;
      return original.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  return {
    async count(run) {
      const mine = zero();
      counts = mine;
      try {
        await run();
      } finally {
        counts = undefined;
      }
      return mine;
    },
    restore() {
      for (const [op, f] of originals) crypto[op] = f;
      syncBuiltinESMExports();
    },
  };
}
