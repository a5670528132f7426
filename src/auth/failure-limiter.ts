/**
 * Failed authentications per remote address in fixed one-minute windows. Past `maxPerMinute` the address is refused
 * (429, Retry-After) without its credential being looked at until the window ends: guessing is slowed to that rate
 * and a flood costs the server a Map lookup per attempt. The table is bounded: at `maxTracked` addresses, expired
 * windows are swept, then the oldest entries dropped (an attacker with that many addresses gains a fresh budget,
 * nothing more).
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { startMs: number; failures: number }>();

  constructor(
    private readonly maxPerMinute: number,
    private readonly maxTracked = 10_000,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `addr` may try again, or 0 when it may try now. */
  blockedForS(addr: string): number {
    const w = this.windows.get(addr);
    if (!w) return 0;
    const t = this.now();
    if (t - w.startMs >= this.windowMs) {
      this.windows.delete(addr);
      return 0;
    }
    return w.failures >= this.maxPerMinute ? Math.max(1, Math.ceil((w.startMs + this.windowMs - t) / 1000)) : 0;
  }

  /** Records one failure; returns true when it is the one that reached the limit (log it once, not per attempt). */
  fail(addr: string): boolean {
    const t = this.now();
    let w = this.windows.get(addr);
    if (!w || t - w.startMs >= this.windowMs) {
      if (w) this.windows.delete(addr);
      if (this.windows.size >= this.maxTracked) this.evict(t);
      w = { startMs: t, failures: 0 };
      this.windows.set(addr, w);
    }
    w.failures++;
    return w.failures === this.maxPerMinute;
  }

  get tracked(): number {
    return this.windows.size;
  }

  private evict(t: number): void {
    for (const [k, w] of this.windows) if (t - w.startMs >= this.windowMs) this.windows.delete(k);
    // Map iterates in insertion order: the first entries are the oldest windows.
    for (const k of this.windows.keys()) {
      if (this.windows.size < this.maxTracked) break;
      this.windows.delete(k);
    }
  }
}
