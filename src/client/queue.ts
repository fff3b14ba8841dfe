/**
 * @module client/queue
 * A push-to-pull queue behind the async iterables of the client (group responses,
 * notifications): values pushed by the network, pulled by `for await`, ended once.
 */

type Waiter<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void };

export class AsyncQueue<T> {
  private readonly items: T[] = [];
  /**
   * The consumer waiting for the next value: the resolving functions of the promise its `next()`
   * returned. Held in two fields, filled by one executor made once, so that a consumer that keeps
   * up (the usual case: one wait per value) costs no closure or wrapper object per value.
   */
  private resolveNext: ((r: IteratorResult<T>) => void) | undefined;
  private rejectNext: ((e: Error) => void) | undefined;
  private readonly wait = (resolve: (r: IteratorResult<T>) => void, reject: (e: Error) => void): void => {
    this.resolveNext = resolve;
    this.rejectNext = reject;
  };
  private ended = false;
  private error: Error | undefined;

  get isEnded(): boolean {
    return this.ended;
  }

  push(v: T): void {
    if (this.ended) return;
    const resolve = this.resolveNext;
    if (resolve !== undefined) {
      this.resolveNext = undefined;
      this.rejectNext = undefined;
      resolve({ value: v, done: false });
    } else this.items.push(v);
  }

  /** Ends the queue; queued values are still delivered, then `error` (if any) is thrown once. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const resolve = this.resolveNext;
    const reject = this.rejectNext;
    this.resolveNext = undefined;
    this.rejectNext = undefined;
    if (resolve !== undefined && reject !== undefined) this.settle({ resolve, reject });
  }

  private settle(w: Waiter<T>): void {
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
        return new Promise(this.wait);
      },
      return: () => {
        onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
