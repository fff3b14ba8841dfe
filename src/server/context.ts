/**
 * @module server/context
 * The per-server state the request pipeline works with, gathered in one place so the pipeline
 * stays a set of functions: routes, timers, Leisure, block-wise buffers, observers and the
 * security hook (server/security).
 */
import type { Messenger } from '../messenger/messenger.js';
import type { ServerExchange } from '../messenger/server-exchange.js';
import type { Block1Assembler } from './block1.js';
import type { RepresentationCache } from './block2.js';
import type { LeisureScheduler } from './leisure.js';
import type { ObserverRegistry } from './observe.js';
import type { OuterBlocks } from './outer-block.js';
import type { Resource } from './resource.js';
import type { Router } from './router.js';
import type { OpenedRequest, ServerSecurity } from './security.js';

export interface ServerContext {
  readonly messenger: Messenger;
  readonly router: Router<Resource>;
  readonly leisure: LeisureScheduler;
  readonly block1: Block1Assembler;
  readonly representations: RepresentationCache;
  readonly observers: ObserverRegistry;
  /** Largest block size exponent this server sends (RFC 7959 §2.2); 6 = 1024 bytes. */
  readonly maxSzx: number;
  /** groupcomm-bis behaviour (Observe on multicast, §3.7); false = strict RFC 7390 (§2.10). */
  readonly groupcommBis: boolean;
  /**
   * Leisure in ms for a response on `group`; `verified` when the request was verified by the
   * security hook (its response is protected and larger, groupcomm-bis §3.1.5).
   */
  leisureMs(group: string, verified: boolean): number;
  /** The message-protection hook (RFC 8613, Group OSCORE), if any. */
  readonly security?: ServerSecurity | undefined;
  /** Exchanges whose request was verified, with the means to seal their responses. */
  readonly secured?: WeakMap<ServerExchange, OpenedRequest>;
  /** Exchanges whose protected request came or whose response goes in Outer Block fragments. */
  readonly outer: WeakMap<ServerExchange, OuterBlocks>;
  /** True when unprotected requests to this resource are refused. */
  isProtected?(resource: Resource): boolean;
}
