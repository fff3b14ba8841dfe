/**
 * @module proxy/group-turns
 * NSTART = 1 per group towards the network (groupcomm-bis §3.6; RFC 7252 §4.7): one forwarded
 * request per group is outstanding at a time, the others wait their turn in a bounded queue.
 * A request stops being outstanding at its first response or when the group's Leisure has
 * passed, not when the client's Multicast-Timeout ends, or one client asking for a long timeout
 * would hold every other client back.
 */

/** One request's turn at a group. */
export interface Turn {
  /** True once it was started. */
  readonly started: boolean;
  /** Gives the turn up: leaves the queue if waiting, lets the next one go if started. Idempotent. */
  release(): void;
}

class Waiting implements Turn {
  started = false;
  released = false;
  readonly #turns: GroupTurns;
  readonly group: string;
  readonly start: () => void;

  constructor(turns: GroupTurns, group: string, start: () => void) {
    this.#turns = turns;
    this.group = group;
    this.start = start;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.#turns.released(this);
  }
}

/** The turns of every group. */
export class GroupTurns {
  readonly #maxQueue: number;
  /** A group with an outstanding request, and who waits behind it. */
  readonly #groups = new Map<string, { current: Waiting; queue: Waiting[] }>();

  constructor(maxQueue: number) {
    this.#maxQueue = maxQueue;
  }

  /** Requests waiting in all, for monitoring. */
  get waiting(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.queue.length;
    return n;
  }

  /** Groups with an outstanding request. */
  get busy(): number {
    return this.#groups.size;
  }

  /**
   * Calls `start` now when `group` is free, else when its turn comes. Undefined (and `start` is
   * never called) when the group's queue is full.
   */
  take(group: string, start: () => void): Turn | undefined {
    const w = new Waiting(this, group, start);
    const g = this.#groups.get(group);
    if (g === undefined) {
      this.#groups.set(group, { current: w, queue: [] });
      w.started = true;
      start();
      return w;
    }
    if (g.queue.length >= this.#maxQueue) return undefined;
    g.queue.push(w);
    return w;
  }

  /** @internal a turn was given up. */
  released(w: Waiting): void {
    const g = this.#groups.get(w.group);
    if (g === undefined) return;
    if (!w.started) {
      const i = g.queue.indexOf(w);
      if (i >= 0) g.queue.splice(i, 1);
      return;
    }
    if (g.current !== w) return;
    // The next waiting one that was not given up meanwhile goes now.
    const next = g.queue.shift();
    if (next === undefined) {
      this.#groups.delete(w.group);
      return;
    }
    g.current = next;
    next.started = true;
    next.start();
  }
}
