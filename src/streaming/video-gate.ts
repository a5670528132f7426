import type { VideoFrameInput } from '../contracts/models.js';

/**
 * Frame-rate cap in front of the video analyzer: at most `fps` frames per second of media time are analysed and at
 * most one frame waits while the analyzer is busy (the newest: an older waiting frame is replaced and counted as
 * skipped). Pure; the pipeline calls `next()` when the analyzer is free and `done()` when it finishes.
 */
export class VideoGate {
  private waiting: VideoFrameInput | null = null;
  private busy = false;
  private lastAcceptedPtsUs = -Infinity;
  private skippedCount = 0;
  private readonly minIntervalUs: number;

  constructor(fps: number) {
    this.minIntervalUs = fps > 0 ? 1e6 / fps : 0;
  }

  /** Offers a frame; returns how many frames this call skipped (0 or 1). */
  offer(frame: VideoFrameInput): number {
    // A small tolerance so 30 fps input capped at 10 fps takes every third frame despite timestamp jitter.
    if (frame.ptsUs - this.lastAcceptedPtsUs < this.minIntervalUs * 0.9) {
      this.skippedCount++;
      return 1;
    }
    let skipped = 0;
    if (this.waiting) {
      skipped = 1;
      this.skippedCount++;
    }
    this.waiting = frame;
    this.lastAcceptedPtsUs = frame.ptsUs;
    return skipped;
  }

  /** The frame to analyse now, or null when the analyzer is busy or nothing waits. */
  next(): VideoFrameInput | null {
    if (this.busy || !this.waiting) return null;
    const f = this.waiting;
    this.waiting = null;
    this.busy = true;
    return f;
  }

  done(): void {
    this.busy = false;
  }

  /** Nothing in analysis and nothing waiting. */
  get idle(): boolean {
    return !this.busy && this.waiting === null;
  }

  get skipped(): number {
    return this.skippedCount;
  }
}
