import { ProtocolError } from '../protocol/v1/errors.js';
import { PtsGuard, type MediaStreamKind } from '../streaming/pts-guard.js';
import { MediaRateLimiter } from './rate-limit.js';

export interface AdmissionLimits {
  maxPtsJumpMs: number;
  maxRealtimeFactor: number;
  realtimeBurstMs: number;
}

/**
 * What every media frame of a session passes before the pipeline sees it (whichever transport carried it): the
 * timestamp guard, the real-time rate limit, and the idle clock. `admit` checks, the caller pushes the frame, then
 * `commit` moves the clock, spends the media time and marks the session as alive. A frame the pipeline refuses
 * (wrong format, backwards timestamp) is not committed, so it neither moves the clock nor keeps the session alive.
 */
export class MediaAdmission {
  private readonly pts: PtsGuard;
  private readonly rate: MediaRateLimiter;
  private lastMediaMs: number;

  constructor(
    limits: AdmissionLimits,
    private readonly nowMs: () => number = () => performance.now(),
    /** Called for every frame refused by the rate limit, reported to the client or not (metrics). */
    private readonly onRateLimited?: () => void,
  ) {
    this.pts = new PtsGuard(limits.maxPtsJumpMs * 1000);
    this.rate = new MediaRateLimiter(limits.maxRealtimeFactor, limits.realtimeBurstMs * 1000, nowMs);
    this.lastMediaMs = nowMs();
  }

  /** Wall time (ms, performance.now()) of the last accepted frame, or of the session's start before any. */
  get lastMediaAtMs(): number {
    return this.lastMediaMs;
  }

  get rateLimitedFrames(): number {
    return this.rate.refused;
  }

  /**
   * The frame's pts as an exact integer when it may go to the pipeline, null when it is refused silently (rate
   * limited, and the client already heard so within the last second). Throws ProtocolError (EMO_ERR_OUT_OF_RANGE,
   * EMO_ERR_TIMESTAMP_JUMP, EMO_ERR_RATE_LIMITED) for a refusal the client should hear about.
   */
  admit(stream: MediaStreamKind, ptsUs: number, durationUs: number): number | null {
    const { ptsUs: pts, advanceUs } = this.pts.offer(stream, ptsUs, durationUs);
    if (this.rate.allows(advanceUs)) return pts;
    this.onRateLimited?.();
    if (!this.rate.shouldReport()) return null;
    throw new ProtocolError('EMO_ERR_RATE_LIMITED', `media arriving faster than ${this.rate.factor}x real time (after a ${this.rate.burstUs / 1e6} s burst): frames refused (${this.rate.refused} so far); this error is sent at most once per second`);
  }

  commit(stream: MediaStreamKind, ptsUs: number, durationUs: number): void {
    this.rate.spend(this.pts.advanceOf(stream, ptsUs, durationUs));
    this.pts.accept(stream, ptsUs, durationUs);
    this.lastMediaMs = this.nowMs();
  }
}
