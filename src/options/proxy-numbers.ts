/**
 * @module options/proxy-numbers
 * The numbers of the three group proxy options (draft-ietf-core-groupcomm-proxy §2, §3, §7.3),
 * in one place: the draft leaves them TBD, so client, proxy and OSCORE take them from here.
 *
 * The defaults come from the experimental range (RFC 7252 §12.2, 65000-65535) and share the low
 * byte of the draft's suggested numbers 2, 248 and 24, so they have the same property bits
 * (RFC 7252 §5.4.6): Multicast-Timeout elective and unsafe, Reply-From and Group-ETag elective,
 * safe and part of the cache key. RFC 7252 §12.2 says experimental numbers "MUST NOT be used in
 * operational deployments"; the draft's numbers are offered as an explicit opt-in for interop
 * experiments only, since IANA has not assigned them.
 */
import { InvalidArgumentError } from '../errors.js';
import { isCritical, isNoCacheKey, isUnsafe, Opt, optionDefinition } from './registry.js';

/** The option numbers of Multicast-Timeout, Reply-From and Group-ETag. */
export interface ProxyOptionNumbers {
  readonly multicastTimeout: number;
  readonly replyFrom: number;
  readonly groupETag: number;
}

/** The defaults: 65026, 65016 and 65048. */
export const DEFAULT_PROXY_OPTION_NUMBERS: ProxyOptionNumbers = Object.freeze({
  multicastTimeout: Opt.MulticastTimeout,
  replyFrom: Opt.ReplyFrom,
  groupETag: Opt.GroupETag,
});

/** The numbers the draft suggests to IANA (2, 248, 24): not assigned, for interop experiments only. */
export const DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS: ProxyOptionNumbers = Object.freeze({
  multicastTimeout: 2,
  replyFrom: 248,
  groupETag: 24,
});

const OWN = new Set<number>([
  ...Object.values(DEFAULT_PROXY_OPTION_NUMBERS),
  ...Object.values(DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS),
]);

function check(name: string, n: unknown, unsafe: boolean): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError(
      `proxy option number ${name} must be an integer in 1-65535, not ${String(n)}`,
    );
  if (isCritical(n)) throw new InvalidArgumentError(`${name} ${n} is critical (odd); the option is elective`);
  if (isUnsafe(n) !== unsafe)
    throw new InvalidArgumentError(
      `${name} ${n} must be ${unsafe ? 'unsafe' : 'safe'} to forward (RFC 7252 §5.4.6 bit 1)`,
    );
  if (!unsafe && isNoCacheKey(n))
    throw new InvalidArgumentError(`${name} ${n} is NoCacheKey; it must be part of the cache key`);
  if (optionDefinition(n) !== undefined && !OWN.has(n))
    throw new InvalidArgumentError(`${name} ${n} is the number of ${optionDefinition(n)!.name}`);
  return n;
}

/**
 * Checks a choice of numbers, filling the defaults; `'draft-suggested'` picks 2/248/24.
 * @throws InvalidArgumentError for a number with the wrong property bits (RFC 7252 §5.4.6), the
 *   number of another registered option, or two equal numbers.
 *
 * @example
 * ```ts
 * proxyOptionNumbers({ multicastTimeout: 65002 }); // { multicastTimeout: 65002, replyFrom: 65016, groupETag: 65048 }
 * ```
 */
export function proxyOptionNumbers(
  input?: Partial<ProxyOptionNumbers> | 'draft-suggested',
): ProxyOptionNumbers {
  if (input === undefined) return DEFAULT_PROXY_OPTION_NUMBERS;
  if (input === 'draft-suggested') return DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS;
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError("proxy option numbers are an object or 'draft-suggested'");
  const d = DEFAULT_PROXY_OPTION_NUMBERS;
  const out = Object.freeze({
    multicastTimeout: check('multicastTimeout', input.multicastTimeout ?? d.multicastTimeout, true),
    replyFrom: check('replyFrom', input.replyFrom ?? d.replyFrom, false),
    groupETag: check('groupETag', input.groupETag ?? d.groupETag, false),
  });
  if (new Set(Object.values(out)).size !== 3)
    throw new InvalidArgumentError('the three proxy option numbers must differ');
  return out;
}

/** True when `n` is one of the three numbers. */
export function isProxyOptionNumber(numbers: ProxyOptionNumbers, n: number): boolean {
  return n === numbers.multicastTimeout || n === numbers.replyFrom || n === numbers.groupETag;
}
