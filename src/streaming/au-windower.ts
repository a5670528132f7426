import { AU_VECTOR_LENGTH } from '../protocol/labels.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { checkFiniteAuVector } from '../protocol/v1/frames.js';
import type { AuWindow, FaceObservation } from '../contracts/models.js';

export interface AuFrameEntry {
  ptsUs: number;
  aus: Float32Array;
  /** Expression posterior of the largest face (video frames analysed by the server), else null. */
  expression: Float32Array | null;
  /** Faces seen in the frame and their track ids (video frames only). */
  trackIds: number[] | null;
  /** Time the video analyzer spent on this frame (video frames only). */
  analysisMs: number | null;
  /** Every face of the frame (video frames only), for the per-face results (src/streaming/face-tracks.ts). */
  faces?: readonly FaceObservation[] | null;
}

export interface AuWindowSnapshot {
  window: AuWindow;
  lastPtsUs: number;
  /** Mean expression posterior over frames that had one, or null. */
  expression: Float32Array | null;
  faces: { count: number; trackIds: number[] } | null;
  analysisMs: number | null;
  /** The window's video frames (for per-face summaries); empty for client AU frames. */
  videoFrames: readonly AuFrameEntry[];
}

/**
 * Per-frame AU vectors (client-sent or from the session's own video analysis) on the session clock. Bounded: holds
 * at most `maxFrames` frames and nothing older than `retainUs` behind the newest.
 */
export class AuWindower {
  private frames: AuFrameEntry[] = [];
  private lastPts = -Infinity;
  private received = 0;
  private evicted = 0;
  private intervalUs: number | null = null;

  constructor(private readonly retainUs: number, private readonly maxFrames: number) {}

  /** Typical spacing of the last frames (median of recent gaps), 0 before two frames: a frame covers [pts, pts + interval). */
  get frameIntervalUs(): number {
    // Read on every media tick (80 per second per session), changed only by push: computed once per frame.
    if (this.intervalUs === null) {
      const n = this.frames.length;
      if (n < 2) return 0;
      const gaps: number[] = [];
      for (let i = Math.max(1, n - 5); i < n; i++) gaps.push(this.frames[i].ptsUs - this.frames[i - 1].ptsUs);
      gaps.sort((a, b) => a - b);
      this.intervalUs = gaps[Math.floor(gaps.length / 2)];
    }
    return this.intervalUs;
  }

  get lastPtsUs(): number | null {
    return this.frames.length > 0 || this.lastPts > -Infinity ? this.lastPts : null;
  }

  push(entry: AuFrameEntry): void {
    checkFiniteAuVector(entry.aus);
    if (entry.ptsUs < this.lastPts) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_BACKWARDS', `AU ptsUs ${entry.ptsUs} < previous ${this.lastPts}`);
    }
    this.lastPts = entry.ptsUs;
    this.frames.push(entry);
    this.intervalUs = null;
    this.received++;
    const horizon = entry.ptsUs - this.retainUs;
    while (this.frames.length > 0 && (this.frames.length > this.maxFrames || this.frames[0].ptsUs < horizon)) {
      this.frames.shift();
      this.evicted++;
    }
  }

  /** The frames with startUs <= pts < endUs, or null when there are none. */
  window(startUs: number, endUs: number): AuWindowSnapshot | null {
    // Frames are in pts order: one scan finds the [first, last) range inside the window.
    const frames = this.frames;
    let first = 0;
    while (first < frames.length && frames[first].ptsUs < startUs) first++;
    let last = first;
    while (last < frames.length && frames[last].ptsUs < endUs) last++;
    if (last === first) return null;
    const inside = frames.slice(first, last);
    const aus = new Float32Array(inside.length * AU_VECTOR_LENGTH);
    for (let i = 0; i < inside.length; i++) aus.set(inside[i].aus, i * AU_VECTOR_LENGTH);
    const withExpr = inside.filter((f) => f.expression !== null);
    let expression: Float32Array | null = null;
    if (withExpr.length > 0) {
      expression = new Float32Array(withExpr[0].expression!.length);
      for (const f of withExpr) for (let k = 0; k < expression.length; k++) expression[k] += f.expression![k] / withExpr.length;
    }
    const video = inside.filter((f) => f.trackIds !== null);
    let faces: AuWindowSnapshot['faces'] = null;
    let analysisMs: number | null = null;
    if (video.length > 0) {
      const ids = new Set<number>();
      let maxCount = 0;
      for (const f of video) {
        for (const id of f.trackIds!) ids.add(id);
        maxCount = Math.max(maxCount, f.trackIds!.length);
      }
      faces = { count: maxCount, trackIds: [...ids].sort((a, b) => a - b) };
      analysisMs = video.reduce((s, f) => s + (f.analysisMs ?? 0), 0) / video.length;
    }
    return { window: { aus, frames: inside.length }, lastPtsUs: inside[inside.length - 1].ptsUs, expression, faces, analysisMs, videoFrames: video };
  }

  reset(): void {
    this.frames = [];
    this.intervalUs = null;
    this.lastPts = -Infinity;
  }

  stats(): Record<string, number> {
    return { held: this.frames.length, received: this.received, evicted: this.evicted };
  }
}
