/**
 * @module util/heap
 * A binary min-heap ordered by a numeric key, with O(log n) removal of any entry through the
 * index it keeps in each node. Serves the timer queue and the fake clock.
 */

/** An entry of the heap. `index` is maintained by the heap; -1 once removed. */
export interface HeapNode {
  key: number;
  /** Tie-breaker so equal keys pop in insertion order. */
  seq: number;
  index: number;
}

export class MinHeap<T extends HeapNode> {
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(node: T): void {
    node.seq = this.seq++;
    node.index = this.items.length;
    this.items.push(node);
    this.up(node.index);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Removes `node` if it is still in the heap. */
  remove(node: T): void {
    if (node.index >= 0 && this.items[node.index] === node) this.removeAt(node.index);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const node = items[i]!;
    const last = items.pop()!;
    node.index = -1;
    if (last !== node) {
      items[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private less(a: T, b: T): boolean {
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
  }

  private up(i: number): void {
    const items = this.items;
    const node = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.less(node, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = p;
    }
    items[i] = node;
    node.index = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const node = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(items[r]!, items[l]!)) c = r;
      const child = items[c]!;
      if (!this.less(child, node)) break;
      items[i] = child;
      child.index = i;
      i = c;
    }
    items[i] = node;
    node.index = i;
  }
}
