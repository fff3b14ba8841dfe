/**
 * @module group-config/membership-sync
 * Keeps the node's IP multicast memberships equal to what the Group Configuration resource asks
 * for (RFC 7390 §2.6.2.1: "After any change ... the endpoint MUST effect registration/
 * deregistration"; §2.6.2.6 for PUT on the collection). Joins happen at once; leaves wait a
 * short grace period and are cancelled when the group is wanted again, so a remove-then-add
 * does not make the node leave and rejoin (the churn RFC 7390 §6.2 warns of).
 *
 * This module holds at most one transport reference per (group, port), however many entries
 * name it: the transport's reference count is shared with All CoAP Nodes and application joins
 * (design.md §Multicast on Node), so dropping our reference never drops a group someone else
 * holds, and two entries for one group cost one reference (RFC 7390 §2.6.2.2: an address already
 * subscribed to needs no change).
 */
import type { Runtime, TimerHandle } from '../runtime.js';
import { reasonOf } from './errors.js';

/** A (group, port) the node should be a member of. */
export interface GroupTarget {
  readonly group: string;
  readonly port: number;
}

/** How joins and leaves reach the transport. `join` returns the interface it used, for `leave`. */
export interface MembershipIo {
  join(group: string, port: number): Promise<string | undefined>;
  leave(group: string, port: number, iface: string | undefined): Promise<void>;
}

interface Held extends GroupTarget {
  readonly iface: string | undefined;
}

/** The key of a target: one membership per (group, port). */
export function targetKey(t: GroupTarget): string {
  return `${t.group}|${t.port}`;
}

export class MembershipSync {
  private readonly held = new Map<string, Held>();
  private readonly leaving = new Map<string, TimerHandle>();
  private readonly failed = new Map<string, string>();
  private readonly io: MembershipIo;
  private readonly runtime: Runtime;
  private readonly graceMs: number;
  private readonly warn: (message: string) => void;

  constructor(io: MembershipIo, runtime: Runtime, graceMs: number, warn: (message: string) => void) {
    this.io = io;
    this.runtime = runtime;
    this.graceMs = graceMs;
    this.warn = warn;
  }

  /**
   * Joins every wanted target not yet held (a pending leave of it is cancelled instead) and
   * schedules a leave for every held target no longer wanted. A join that fails is remembered
   * with its reason and tried again on the next call; it does not stop the others.
   */
  async reconcile(wanted: ReadonlyMap<string, GroupTarget>): Promise<void> {
    for (const [key, t] of wanted) {
      const pending = this.leaving.get(key);
      if (pending !== undefined) {
        this.runtime.clearTimeout(pending);
        this.leaving.delete(key);
        continue;
      }
      if (this.held.has(key)) continue;
      try {
        const iface = await this.io.join(t.group, t.port);
        this.held.set(key, { group: t.group, port: t.port, iface });
        this.failed.delete(key);
      } catch (err) {
        this.failed.set(key, reasonOf(err));
      }
    }
    for (const key of this.failed.keys()) if (!wanted.has(key)) this.failed.delete(key);
    const drop: string[] = [];
    for (const key of this.held.keys()) if (!wanted.has(key) && !this.leaving.has(key)) drop.push(key);
    for (const key of drop) {
      if (this.graceMs <= 0) await this.leaveNow(key);
      else
        this.leaving.set(
          key,
          this.runtime.setTimeout(() => void this.leaveNow(key), this.graceMs),
        );
    }
  }

  /** `joined`, `failed` with the join error, or `absent` (not wanted, or a leave is pending). */
  state(t: GroupTarget): { state: 'joined' } | { state: 'failed'; reason: string } | { state: 'absent' } {
    const key = targetKey(t);
    if (this.held.has(key) && !this.leaving.has(key)) return { state: 'joined' };
    const reason = this.failed.get(key);
    return reason === undefined ? { state: 'absent' } : { state: 'failed', reason };
  }

  /** Targets whose leave waits for the grace period. */
  pendingLeaves(): GroupTarget[] {
    return [...this.leaving.keys()].map((k) => {
      const h = this.held.get(k)!;
      return { group: h.group, port: h.port };
    });
  }

  /** Targets held now (including those whose leave is pending). */
  heldTargets(): GroupTarget[] {
    return [...this.held.values()].map((h) => ({ group: h.group, port: h.port }));
  }

  /** Leaves everything at once, without grace: the node is shutting the resource down. */
  async close(): Promise<void> {
    for (const t of this.leaving.values()) this.runtime.clearTimeout(t);
    this.leaving.clear();
    for (const key of [...this.held.keys()]) await this.leaveNow(key);
    this.failed.clear();
  }

  private async leaveNow(key: string): Promise<void> {
    const h = this.held.get(key);
    this.leaving.delete(key);
    if (h === undefined) return;
    // Forget it before the asynchronous part, so a join that races this leave takes a new reference.
    this.held.delete(key);
    try {
      await this.io.leave(h.group, h.port, h.iface);
    } catch (err) {
      this.warn(`could not leave ${h.group} port ${h.port}: ${reasonOf(err)}`);
    }
  }
}
