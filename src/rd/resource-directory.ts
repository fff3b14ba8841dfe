/**
 * @module rd/resource-directory
 * The handle of a running resource directory (RFC 9176): its registrations, its warnings, a
 * way to follow changes, and `close()`. Made by `attachResourceDirectory`.
 */
import type { Registration } from './registration.js';
import type { RdEvent, RdService } from './service.js';
import type { RdStore } from './store.js';

/** The most warnings kept. */
const MAX_WARNINGS = 100;

/** Sizes, for monitoring and the bench. */
export interface RdStats {
  readonly registrations: number;
  readonly links: number;
  readonly observedQueries: number;
}

/**
 * A resource directory attached to a server.
 *
 * @example
 * ```ts
 * const rd = await attachResourceDirectory(server, { store: './rd-state' });
 * const stop = rd.onEvent((e) => console.log(e.kind, e.registration.ep));
 * console.log(rd.registrations().map((r) => r.path));
 * stop();
 * await rd.close();
 * ```
 */
export class ResourceDirectory {
  /** @internal */ service: RdService | undefined;
  /** @internal Things to undo on close, in order. */
  readonly owned: Array<() => unknown> = [];
  private readonly store: RdStore;
  private readonly warningList: string[];
  private closed = false;

  /** @internal */
  constructor(store: RdStore, warnings: string[]) {
    this.store = store;
    this.warningList = warnings;
  }

  /** Where registrations are kept (`memory` or the state directory). */
  get location(): string {
    return this.store.location;
  }

  /** Every live registration, in creation order. */
  registrations(): Registration[] {
    return this.service === undefined ? [] : [...this.service.dir.all()];
  }

  /** Warnings so far (started empty, a group not joined, a change that could not be saved). */
  warnings(): readonly string[] {
    return [...this.warningList];
  }

  /** @internal */
  warn(message: string): void {
    this.warningList.push(message);
    if (this.warningList.length > MAX_WARNINGS) this.warningList.shift();
  }

  /** Calls `listener` after each saved change and each expiry; returns a function that stops it. */
  onEvent(listener: (e: RdEvent) => void): () => void {
    this.service?.listeners.add(listener);
    return () => this.service?.listeners.delete(listener);
  }

  stats(): RdStats {
    return {
      registrations: this.service?.dir.size ?? 0,
      links: this.service?.dir.linkCount ?? 0,
      observedQueries: this.service?.observed.size ?? 0,
    };
  }

  /** Removes the resources, stops expiry, waits for pending saves and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.service?.close();
    for (const undo of this.owned) await undo();
    await this.store.close();
  }
}
