import { DropOldestQueue } from '../lib/bounded-queue.js';

/**
 * A session's hops on their way to the models: one runs at a time, at most `maxPending` wait behind it and the oldest
 * is dropped (through `onDrop`) when inference falls behind real time. `whenIdle` resolves once none runs or waits.
 */
export class HopQueue<J> {
  private readonly pending: DropOldestQueue<J>;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(maxPending: number, private readonly run: (job: J) => Promise<void>, onDrop: () => void) {
    this.pending = new DropOldestQueue<J>(maxPending, onDrop);
  }

  get length(): number {
    return this.pending.length;
  }

  get inFlight(): number {
    return this.running;
  }

  push(job: J): void {
    this.pending.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.running < 1 && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.pending.length === 0) this.wake();
      });
    }
  }

  whenIdle(): Promise<void> {
    if (this.running === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Removes every waiting hop (the one running goes on) and returns them. */
  clear(): J[] {
    return this.pending.clear();
  }

  /** Drops every waiting hop and releases whoever waits for idle (the session is gone). */
  close(): void {
    this.pending.clear();
    this.wake();
  }

  private wake(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
