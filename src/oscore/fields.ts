/**
 * @module oscore/fields
 * Moving message fields between the original CoAP message and the OSCORE message (RFC 8613 §4):
 * which options go Inner or Outer on the way out (§4.1, §4.1.3.3, §4.1.3.7), and on the way in
 * which Outer options are kept or discarded (§8.2 step 1, §8.4 step 1) and how the original is
 * rebuilt (§8.2 step 7). Shared by OSCORE and Group OSCORE.
 */
import { InvalidArgumentError } from '../errors.js';
import type { CoapMessage, CoapOption } from '../message/types.js';
import type { ProxyOptionNumbers } from '../options/proxy-numbers.js';
import { Opt } from '../options/registry.js';
import { findOptions } from '../options/values.js';
import { isInnerOption, isOuterOnlyOption, isOuterOption } from './classes.js';
import { OscoreError } from './errors.js';
import { decodeOscoreOption, type OscoreOptionValue } from './option.js';
import type { Plaintext } from './plaintext.js';
import { decomposeProxyUri } from './proxy-uri.js';

/** The original message's options, sorted into Inner and Outer. Observe is returned apart. */
export interface SplitOptions {
  inner: CoapOption[];
  outer: CoapOption[];
  observe: CoapOption | undefined;
}

/**
 * Sorts the original message's options into Inner and Outer (RFC 8613 §4.1), decomposing
 * Proxy-Uri (§4.1.3.3), and appends the caller's extra Outer options. `proxy` gives the numbers
 * of the group proxy options, which are Class U.
 * @throws InvalidArgumentError for a nested OSCORE option (§4.1.3.7), a bad Proxy-Uri or an extra
 *   Outer option that may not be Outer.
 */
export function splitOptions(
  msg: CoapMessage,
  extraOuter: readonly CoapOption[] | undefined,
  proxy?: ProxyOptionNumbers,
): SplitOptions {
  const inner: CoapOption[] = [];
  const outer: CoapOption[] = [];
  let observe: CoapOption | undefined;
  for (const o of msg.options) {
    if (o.number === Opt.Oscore) {
      // RFC 8613 §4.1.3.7: nested OSCORE is not supported; processing stops.
      throw new InvalidArgumentError(
        'the message already has an OSCORE option (nested OSCORE is not supported)',
      );
    }
    if (o.number === Opt.ProxyUri) {
      const d = decomposeProxyUri(o.value.toString('latin1'));
      outer.push(d.outer);
      inner.push(...d.inner);
    } else if (o.number === Opt.Observe) observe = o;
    else if (isInnerOption(o.number, proxy)) inner.push(o);
    else outer.push(o);
  }
  for (const o of extraOuter ?? []) {
    if (o.number === Opt.Oscore || o.number === Opt.Observe || !isOuterOption(o.number, proxy)) {
      throw new InvalidArgumentError(`option ${o.number} cannot be given as an extra Outer option`);
    }
    outer.push(o);
  }
  return { inner, outer, observe };
}

/** The OSCORE message: the original header, the Outer options plus OSCORE, the given payload. */
export function assemble(
  msg: CoapMessage,
  code: number,
  outer: CoapOption[],
  oscore: Buffer,
  payload: Buffer,
): CoapMessage {
  const options = [...outer, { number: Opt.Oscore, value: oscore }];
  // Stable sort: the order of repeated options is kept (RFC 7252 §5.4.5).
  options.sort((a, b) => a.number - b.number);
  return { type: msg.type, code, messageId: msg.messageId, token: msg.token, options, payload };
}

/** A received OSCORE message, taken apart. */
export interface ParsedOuter {
  /** The decompressed OSCORE option. */
  oscore: OscoreOptionValue;
  /** The OSCORE option value as received (Group OSCORE puts it in the AAD). */
  oscoreBytes: Buffer;
  /** Outer-only options, kept in the rebuilt message. */
  keep: CoapOption[];
  /** Outer instances of options that are also Inner: not part of the original message. */
  discarded: CoapOption[];
}

/**
 * RFC 8613 §8.2 steps 1-2 / §8.4 steps 1-2: separates the OSCORE option and decompresses it.
 * `proxy` gives the numbers of the group proxy options, which are kept as Outer-only.
 * @throws OscoreError `ERR_OSCORE_FORMAT` without exactly one OSCORE option, without payload
 *   (RFC 8613 §2) or with a malformed option value.
 */
export function parseOuter(
  msg: CoapMessage,
  allowGroupFlag: boolean,
  proxy?: ProxyOptionNumbers,
): ParsedOuter {
  const found = findOptions(msg.options, Opt.Oscore);
  if (found.length !== 1) {
    throw new OscoreError(
      'ERR_OSCORE_FORMAT',
      found.length === 0 ? 'no OSCORE option' : 'repeated OSCORE option',
    );
  }
  if (msg.payload.length === 0) throw new OscoreError('ERR_OSCORE_FORMAT', 'OSCORE message without payload');
  const oscoreBytes = found[0]!.value;
  const oscore = decodeOscoreOption(oscoreBytes, { allowGroupFlag });
  const keep: CoapOption[] = [];
  const discarded: CoapOption[] = [];
  for (const o of msg.options) {
    if (o.number === Opt.Oscore) continue;
    (isOuterOnlyOption(o.number, proxy) ? keep : discarded).push(o);
  }
  return { oscore, oscoreBytes, keep, discarded };
}

/** RFC 8613 §8.2 step 7: the Outer header and kept options, with the decrypted Code, options and payload. */
export function rebuild(outer: CoapMessage, keep: CoapOption[], plain: Plaintext): CoapMessage {
  const options = [...keep, ...plain.options].sort((a, b) => a.number - b.number);
  return {
    type: outer.type,
    code: plain.code,
    messageId: outer.messageId,
    token: outer.token,
    options,
    payload: plain.payload,
  };
}
