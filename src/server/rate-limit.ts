/**
 * Media time against wall time, as a token bucket: a session earns `factor` µs of media per µs of wall time and may
 * hold at most `burstUs` unspent, so a client may send a short file at once (the bucket starts full) but cannot
 * sustain more than `factor` x real time. Spending may overdraw the bucket (one long audio frame is accepted whole);
 * while the balance is not positive, frames that would move the clock are refused. Frames that add no media time
 * (a second stream catching up, a frame at the same pts) always pass: they cut no hops.
 */
export class MediaRateLimiter {
  private balanceUs: number;
  private lastRefillMs: number;
  private lastReportMs = -Infinity;
  private refusedFrames = 0;

  constructor(
    readonly factor: number,
    readonly burstUs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(factor > 0)) throw new Error(`rate factor must be positive, got ${factor}`);
    this.balanceUs = burstUs;
    this.lastRefillMs = nowMs();
  }

  get refused(): number {
    return this.refusedFrames;
  }

  /** Whether a frame adding `mediaUs` may be accepted now (nothing is spent: see `spend`). */
  allows(mediaUs: number): boolean {
    if (mediaUs <= 0) return true;
    this.refill();
    if (this.balanceUs > 0) return true;
    this.refusedFrames++;
    return false;
  }

  spend(mediaUs: number): void {
    if (mediaUs > 0) this.balanceUs -= mediaUs;
  }

  /** True at most once per `intervalMs`: a client is told it is rate-limited, not flooded with one error per frame. */
  shouldReport(intervalMs = 1000): boolean {
    const now = this.nowMs();
    if (now - this.lastReportMs < intervalMs) return false;
    this.lastReportMs = now;
    return true;
  }

  private refill(): void {
    const now = this.nowMs();
    this.balanceUs = Math.min(this.burstUs, this.balanceUs + (now - this.lastRefillMs) * 1000 * this.factor);
    this.lastRefillMs = now;
  }
}
