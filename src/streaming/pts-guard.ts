import { ProtocolError } from '../protocol/v1/errors.js';
import { MAX_ABS_PTS_US } from '../protocol/v1/frames.js';

export type MediaStreamKind = 'audio' | 'au' | 'video';

/**
 * Two clocks of one session, kept in whole microseconds:
 * - the offered clock: the furthest pts (plus duration, for audio) of any frame that passed this guard. A frame
 *   whose pts lies more than `maxJumpUs` ahead of it is refused (EMO_ERR_TIMESTAMP_JUMP), so one frame cannot move
 *   a session hours into the future. Frames refused later (rate limit, pipeline) still move it: a client that was
 *   rate-limited for a while and goes on with its own timeline is not refused for the gap.
 * - the accepted clock: how far the media the pipeline actually took reaches. Audio counts its accepted samples on
 *   from its first chunk, as the audio windower does (a chunk's pts only orders it), AU and video frames their pts.
 *   How far a frame moves this clock is the media time it costs against the real-time limit.
 * The first frame of a session sets both clocks wherever it likes.
 */
export class PtsGuard {
  private offeredUs: number | null = null;
  private acceptedUs: number | null = null;
  private audioEndUs: number | null = null;

  constructor(readonly maxJumpUs: number) {}

  get sessionClockUs(): number | null {
    return this.acceptedUs;
  }

  /**
   * Checks a frame's pts and records it as offered. Returns the pts as an exact integer and the media time (µs,
   * >= 0) accepting the frame would add to the accepted clock. Throws EMO_ERR_OUT_OF_RANGE for a pts that is not a
   * finite number within ±(2^53 - 1) (the session API can pass any number; fractions are rounded), and
   * EMO_ERR_TIMESTAMP_JUMP for one too far ahead.
   */
  offer(stream: MediaStreamKind, ptsUs: number, durationUs: number): { ptsUs: number; advanceUs: number } {
    if (!Number.isFinite(ptsUs) || Math.abs(ptsUs) > MAX_ABS_PTS_US) {
      throw new ProtocolError('EMO_ERR_OUT_OF_RANGE', `${stream} ptsUs ${ptsUs} is not a finite integer within ±${MAX_ABS_PTS_US}`);
    }
    const pts = Math.round(ptsUs);
    const reference = this.offeredUs === null ? null : Math.max(this.offeredUs, this.acceptedUs ?? -Infinity);
    if (reference !== null && pts - reference > this.maxJumpUs) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_JUMP', `${stream} ptsUs ${pts} is ${pts - reference} µs ahead of the session clock (${reference} µs); at most ${this.maxJumpUs} µs (server.maxPtsJumpMs) are allowed`);
    }
    const offeredEnd = pts + Math.max(0, durationUs);
    if (this.offeredUs === null || offeredEnd > this.offeredUs) this.offeredUs = offeredEnd;
    return { ptsUs: pts, advanceUs: this.advanceOf(stream, pts, durationUs) };
  }

  /** The pipeline took the frame: the accepted clock moves to its end. */
  accept(stream: MediaStreamKind, ptsUs: number, durationUs: number): void {
    const end = this.endOf(stream, ptsUs, durationUs);
    if (stream === 'audio') this.audioEndUs = end;
    if (this.acceptedUs === null || end > this.acceptedUs) this.acceptedUs = end;
  }

  /** Media time (µs) accepting this frame adds to the accepted clock. */
  advanceOf(stream: MediaStreamKind, ptsUs: number, durationUs: number): number {
    const end = this.endOf(stream, ptsUs, durationUs);
    return this.acceptedUs === null ? Math.max(0, durationUs) : Math.max(0, end - this.acceptedUs);
  }

  private endOf(stream: MediaStreamKind, ptsUs: number, durationUs: number): number {
    if (stream !== 'audio') return ptsUs + durationUs;
    return (this.audioEndUs ?? ptsUs) + durationUs;
  }
}
