/**
 * @module cli/proxy-extensions
 * What `coap-group proxy` can be extended with: each extension adds options to the command and
 * starts something beside the CoAP proxy once it listens (the HTTP gateway is one), contributing
 * to the `ready` line and stopped with the proxy. An extension is added by listing it in
 * `PROXY_EXTENSIONS`; cli/proxy.ts needs no change.
 */
import type { ParseArgsConfig } from 'node:util';
import type { CoapProxy, ProxyOptions } from '../index.js';
import { HTTP_GATEWAY_EXTENSION } from './http-gateway.js';

/** The command line's values, as `parseArgs` gives them. */
export type ProxyArgValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** What an extension gets when the proxy is listening. */
export interface ProxyExtensionContext {
  readonly proxy: CoapProxy;
  /** The options the proxy was made with (its allow-list, reverse routes, interface, hop limit, cap on T'). */
  readonly options: ProxyOptions;
  /** Writes one line on stderr (`coap-group: note: ...`). */
  note(line: string): void;
}

/** An extension that started. */
export interface StartedExtension {
  /** Added to the `ready` line, e.g. `http://127.0.0.1:8080`. */
  readonly ready: string;
  close(): Promise<void>;
}

/** One extension of `coap-group proxy`. */
export interface ProxyExtension {
  /** Options it adds to the command (`parseArgs` form). */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Checks its values before anything is bound; throws a `UsageError` (cli/usage) to refuse. */
  check?(values: ProxyArgValues): void;
  /** Starts it, or returns undefined when its options were not given. */
  start(values: ProxyArgValues, context: ProxyExtensionContext): Promise<StartedExtension | undefined>;
}

/** The extensions of `coap-group proxy`, in the order they start. */
export const PROXY_EXTENSIONS: readonly ProxyExtension[] = [HTTP_GATEWAY_EXTENSION];
