/**
 * @module proxy/forward-options
 * The options of a forwarded request and of a relayed response (RFC 7252 §5.7.1, §5.4.2):
 * "All options present in a proxy request MUST be processed at the proxy"; an unsafe option it
 * does not recognize is a 4.02 in a request and a 5.02 in a response; a safe one it does not
 * recognize is forwarded. The URI goes to the next hop as Uri-* options (§6.4), consuming
 * Proxy-Uri or Proxy-Scheme; Multicast-Timeout and Group-ETag are read and removed
 * (groupcomm-proxy §5.2.1 step 4, §10.4); Hop-Limit is decremented, and a request whose limit
 * runs out gets 5.08 (RFC 8768 §3).
 */
import type { CoapOption } from '../message/types.js';
import { isProxyOptionNumber, type ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { isUnsafe, Opt, optionDefinition } from '../options/registry.js';
import { decodeUint, encodeUint } from '../options/values.js';
import type { Address } from '../transport/types.js';
import { type CoapUri, uriToOptions } from '../uri/index.js';

/** 5.08 Hop Limit Reached (RFC 8768 §3, §6.2). */
export const HOP_LIMIT_REACHED = (5 << 5) | 8;

/** True for an option this proxy knows: the registry's, and the three groupcomm-proxy options. */
export function recognized(n: number, numbers: ProxyOptionNumbers): boolean {
  return optionDefinition(n) !== undefined || isProxyOptionNumber(numbers, n);
}

/** The first unsafe option this proxy does not recognize, if any (RFC 7252 §5.7.1). */
export function unknownUnsafe(
  options: readonly CoapOption[],
  numbers: ProxyOptionNumbers,
): number | undefined {
  for (const o of options) if (isUnsafe(o.number) && !recognized(o.number, numbers)) return o.number;
  return undefined;
}

/** The forwarded options, or `'hop-limit'` when Hop-Limit runs out here. */
export type ForwardedOptions = CoapOption[] | 'hop-limit';

/**
 * The options of the request to `dest` for `uri`: the client's `others` (already without
 * Proxy-* and Uri-*) minus what the proxy consumes, plus the Uri-* options of `uri` for `dest`.
 */
export function forwardOptions(
  others: readonly CoapOption[],
  uri: CoapUri,
  dest: Address,
  numbers: ProxyOptionNumbers,
): ForwardedOptions {
  const out: CoapOption[] = [];
  for (const o of others) {
    const n = o.number;
    if (n === numbers.multicastTimeout || n === numbers.groupETag) continue;
    if (n === Opt.HopLimit) {
      const left = o.value.length === 1 ? decodeUint(o.value) - 1 : 0;
      if (left <= 0) return 'hop-limit';
      out.push({ number: n, value: encodeUint(left) });
      continue;
    }
    out.push(o);
  }
  out.push(...uriToOptions(uri, dest));
  return out.sort((a, b) => a.number - b.number);
}
