/**
 * @module server/context
 * The per-server state the router site works with, gathered in one place so the pipeline stays a
 * set of functions: routes, block-wise buffers, observers and the protection rule.
 */
import type { Block1Assembler } from './block1.js';
import type { RepresentationCache } from './block2.js';
import type { ObserverRegistry } from './observe.js';
import type { PathCache } from './path-cache.js';
import type { Resource } from './resource.js';
import type { Router } from './router.js';

export interface ServerContext {
  readonly router: Router<Resource>;
  readonly block1: Block1Assembler;
  readonly representations: RepresentationCache;
  readonly observers: ObserverRegistry;
  /** Recently seen request paths, decoded. */
  readonly paths: PathCache;
  /** Largest block size exponent this server sends (RFC 7959 §2.2); 6 = 1024 bytes. */
  readonly maxSzx: number;
  /** groupcomm-bis behaviour (Observe on multicast, §3.7); false = strict RFC 7390 (§2.10). */
  readonly groupcommBis: boolean;
  /** True when requests to this resource that no layer verified are refused. */
  isProtected(resource: Resource): boolean;
}
