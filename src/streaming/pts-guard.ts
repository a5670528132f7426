import { ProtocolError } from '../protocol/v1/errors.js';
import { MAX_ABS_PTS_US } from '../protocol/v1/frames.js';

export type MediaStreamKind = 'audio' | 'au' | 'video';

/**
 * The session clock as the server's limits see it: the furthest media time any accepted frame reached. Audio counts
 * its duration on from the previous chunk (the audio windower counts samples, whatever the chunk's pts says), so the
 * guard's clock is never behind the pipeline's. A frame whose pts lies more than `maxJumpUs` ahead of this clock is
 * refused (EMO_ERR_TIMESTAMP_JUMP): one frame cannot move a session hours into the future and make it cut a hop for
 * every 500 ms in between. The first frame of a session sets the clock wherever it likes.
 */
export class PtsGuard {
  private clockUs: number | null = null;
  private audioEndUs: number | null = null;

  constructor(readonly maxJumpUs: number) {}

  get sessionClockUs(): number | null {
    return this.clockUs;
  }

  /**
   * Checks a frame against the clock without accepting it. Returns the frame's pts as an exact integer and the
   * media time (µs, >= 0) accepting it would add to the session clock. Throws EMO_ERR_OUT_OF_RANGE for a pts that
   * is not a finite number within ±(2^53 - 1) (the session API can pass any number; fractions are rounded), and
   * EMO_ERR_TIMESTAMP_JUMP for one too far ahead.
   */
  check(stream: MediaStreamKind, ptsUs: number, durationUs: number): { ptsUs: number; advanceUs: number } {
    if (!Number.isFinite(ptsUs) || Math.abs(ptsUs) > MAX_ABS_PTS_US) {
      throw new ProtocolError('EMO_ERR_OUT_OF_RANGE', `${stream} ptsUs ${ptsUs} is not a finite integer within ±${MAX_ABS_PTS_US}`);
    }
    const pts = Math.round(ptsUs);
    if (this.clockUs !== null && pts - this.clockUs > this.maxJumpUs) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_JUMP', `${stream} ptsUs ${pts} is ${pts - this.clockUs} µs ahead of the session clock (${this.clockUs} µs); at most ${this.maxJumpUs} µs (server.maxPtsJumpMs) are allowed`);
    }
    const end = this.endOf(stream, pts, durationUs);
    return { ptsUs: pts, advanceUs: this.clockUs === null ? Math.max(0, durationUs) : Math.max(0, end - this.clockUs) };
  }

  /** The frame was accepted: the clock moves to its end. */
  accept(stream: MediaStreamKind, ptsUs: number, durationUs: number): void {
    const end = this.endOf(stream, ptsUs, durationUs);
    if (stream === 'audio') this.audioEndUs = end;
    if (this.clockUs === null || end > this.clockUs) this.clockUs = end;
  }

  private endOf(stream: MediaStreamKind, ptsUs: number, durationUs: number): number {
    if (stream !== 'audio') return ptsUs + durationUs;
    return (this.audioEndUs === null ? ptsUs : Math.max(this.audioEndUs, ptsUs)) + durationUs;
  }
}
