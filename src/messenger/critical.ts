/**
 * @module messenger/critical
 * Which critical options the layers above understand (RFC 7252 §5.4.1: a message with a
 * critical option nobody understands is rejected). By default every registered option except
 * those left to upper layers (options/registry `LEFT_TO_UPPER_LAYERS`); a layer that processes
 * one of those (a security layer, for example) adds it.
 */
import type { CoapMessage } from '../message/types.js';
import { LEFT_TO_UPPER_LAYERS, optionDefinition } from '../options/registry.js';

/** The default: registered, and not left to an upper layer. */
export function defaultRecognized(n: number): boolean {
  return optionDefinition(n) !== undefined && !LEFT_TO_UPPER_LAYERS.has(n);
}

/** The default plus the options in `extra` (read at each call, so `extra` may grow). */
export function recognizedWith(extra: ReadonlySet<number>): (n: number) => boolean {
  return (n) => defaultRecognized(n) || extra.has(n);
}

/** The first critical option of `msg` that `recognized` refuses, or undefined. */
export function firstUnrecognizedCritical(
  msg: CoapMessage,
  recognized: (n: number) => boolean,
): number | undefined {
  const options = msg.options;
  for (let i = 0; i < options.length; i++) {
    const n = options[i]!.number;
    if ((n & 1) === 1 && !recognized(n)) return n;
  }
  return undefined;
}
