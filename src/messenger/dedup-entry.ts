/**
 * @module messenger/dedup-entry
 * The object view of duplicate-detection entries (messenger/dedup, RFC 7252 §4.5) that
 * `DedupCache.check` hands out, for tests and tools: one object per entry, reading and writing
 * the entry's slot while it lives. The message layer uses slot numbers instead and allocates
 * nothing per message; this view is kept out of that path.
 */

/** One remembered message. `reply` is what was sent back, replayed for duplicates. */
export interface DedupEntry {
  readonly expires: number;
  reply: Buffer | undefined;
  /** True once the entry was evicted, replaced or expired. */
  readonly dead: boolean;
}

/** What an entry object needs of the table's slots (messenger/dedup-slab provides it). */
export interface EntrySlots {
  isLive(slot: number, generation: number): boolean;
  expiryOf(slot: number): number;
  replyOf(slot: number): Buffer | undefined;
  setReply(slot: number, generation: number, reply: Buffer | undefined): void;
}

/** The entry objects handed out so far, by slot: one per entry, so a duplicate's is the original's. */
export class EntryRefs {
  readonly #slots: EntrySlots;
  readonly #bySlot = new Map<number, EntryRef>();

  constructor(slots: EntrySlots) {
    this.#slots = slots;
  }

  /** The object of the entry that has `generation` in `slot`. */
  get(slot: number, generation: number): DedupEntry {
    let entry = this.#bySlot.get(slot);
    if (entry === undefined || entry.generation !== generation) {
      entry = new EntryRef(this.#slots, slot, generation);
      this.#bySlot.set(slot, entry);
    }
    return entry;
  }
}

/** An entry as an object: reads and writes go to its slot while the entry lives. */
class EntryRef implements DedupEntry {
  readonly #slots: EntrySlots;
  readonly #slot: number;
  readonly generation: number;

  constructor(slots: EntrySlots, slot: number, generation: number) {
    this.#slots = slots;
    this.#slot = slot;
    this.generation = generation;
  }

  get expires(): number {
    return this.#slots.expiryOf(this.#slot);
  }

  get reply(): Buffer | undefined {
    return this.#slots.isLive(this.#slot, this.generation) ? this.#slots.replyOf(this.#slot) : undefined;
  }

  set reply(value: Buffer | undefined) {
    this.#slots.setReply(this.#slot, this.generation, value);
  }

  get dead(): boolean {
    return !this.#slots.isLive(this.#slot, this.generation);
  }
}
