/**
 * A FIFO with a hard capacity that drops the oldest item when full and counts what it dropped. Every queue in the
 * streaming path is one of these: falling behind real time costs old windows, never memory or latency.
 */
export class DropOldestQueue<T> {
  private items: T[] = [];
  private droppedCount = 0;

  constructor(readonly capacity: number, private readonly onDrop?: (item: T) => void) {
    if (!(capacity >= 1)) throw new Error(`queue capacity must be >= 1, got ${capacity}`);
  }

  /** Appends; returns the dropped item when the queue was full. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.items.length >= this.capacity) {
      dropped = this.items.shift();
      this.droppedCount++;
      if (dropped !== undefined) this.onDrop?.(dropped);
    }
    this.items.push(item);
    return dropped;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Removes and returns up to n items from the head. */
  take(n: number): T[] {
    return this.items.splice(0, n);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  clear(): T[] {
    const all = this.items;
    this.items = [];
    return all;
  }

  get length(): number {
    return this.items.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }
}
