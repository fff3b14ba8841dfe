/**
 * @module client/queue
 * A push-to-pull queue behind the async iterables of the client (group responses,
 * notifications): values pushed by the network, pulled by `for await`, ended once.
 */

export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  private error: Error | undefined;

  get isEnded(): boolean {
    return this.ended;
  }

  push(v: T): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: v, done: false });
    } else this.items.push(v);
  }

  /** Ends the queue; queued values are still delivered, then `error` (if any) is thrown once. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const w = this.waiter;
    this.waiter = undefined;
    if (w) this.settle(w);
  }

  private settle(w: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void }): void {
    if (this.error) {
      const e = this.error;
      this.error = undefined;
      w.reject(e);
    } else w.resolve({ value: undefined, done: true });
  }

  /** An iterator; `onReturn` runs when the consumer leaves the loop early. */
  iterator(onReturn: () => void): AsyncIterator<T> {
    return {
      next: () => {
        const v = this.items.shift();
        if (v !== undefined) return Promise.resolve({ value: v, done: false });
        if (this.ended) return new Promise((resolve, reject) => this.settle({ resolve, reject }));
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
