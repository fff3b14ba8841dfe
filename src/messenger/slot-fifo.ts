/**
 * @module messenger/slot-fifo
 * The expiry queue of the duplicate-detection table (messenger/dedup): references to entries,
 * as (slot, generation) pairs, in the order they expire. A ring of integers that doubles when
 * full, or drops its stale pairs instead (entries that ended early: replaced or evicted) when
 * they are most of it, and halves once drained to a quarter. So a Message ID reused with new
 * tokens does not queue one pair per message behind an older live entry.
 */

/** Tells whether the entry a pair refers to still lives. */
export type Liveness = (slot: number, generation: number) => boolean;

export class SlotFifo {
  /** Pairs: slot at 2i, generation at 2i + 1. */
  private items = new Int32Array(32);
  /** Capacity in pairs; a power of two. */
  private capacity = 16;
  private head = 0;
  length = 0;
  readonly #isLive: Liveness;

  constructor(isLive: Liveness) {
    this.#isLive = isLive;
  }

  /** The slot of the oldest pair, or -1 when empty. */
  headSlot(): number {
    return this.length === 0 ? -1 : this.items[this.head * 2]!;
  }

  /** The generation of the oldest pair (when not empty). */
  headGeneration(): number {
    return this.items[this.head * 2 + 1]!;
  }

  /** Appends a pair; `live` is how many entries live in all queues together. */
  push(slot: number, generation: number, live: number): void {
    if (this.length === this.capacity)
      this.resize(this.length > 2 * live ? this.capacity : this.capacity * 2);
    const i = (this.head + this.length++) & (this.capacity - 1);
    this.items[i * 2] = slot;
    this.items[i * 2 + 1] = generation;
  }

  /** Removes the oldest pair; returns its slot (-1 when empty). */
  shift(): number {
    if (this.length === 0) return -1;
    const slot = this.items[this.head * 2]!;
    this.head = (this.head + 1) & (this.capacity - 1);
    // Give the memory of a burst back once the queue has drained to a quarter.
    if (--this.length < this.capacity >> 2 && this.capacity > 16) this.resize(this.capacity >> 1);
    return slot;
  }

  clear(): void {
    this.items = new Int32Array(32);
    this.capacity = 16;
    this.head = 0;
    this.length = 0;
  }

  /** Copies the live pairs, in order, into a ring of `capacity` pairs (at least what they need). */
  private resize(capacity: number): void {
    const old = this.items;
    const mask = this.capacity - 1;
    const kept: number[] = [];
    for (let i = 0; i < this.length; i++) {
      const j = (this.head + i) & mask;
      if (this.#isLive(old[j * 2]!, old[j * 2 + 1]!)) kept.push(old[j * 2]!, old[j * 2 + 1]!);
    }
    let cap = Math.max(16, capacity);
    while (cap < kept.length / 2 + 1) cap *= 2;
    this.items = new Int32Array(cap * 2);
    this.items.set(kept);
    this.capacity = cap;
    this.head = 0;
    this.length = kept.length / 2;
  }
}
