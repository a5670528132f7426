import { type Box, boxArea, iou, squareAround } from './box.js';

export interface TrackerOptions {
  maxFaces: number;
  redetectEveryFrames: number;
  /** With no face in view, run the detector on every Nth frame only (an empty room costs decode time, not detector time). */
  idleDetectEveryFrames: number;
  minMeshScore: number;
  /** A detection overlapping a track's crop by more than this IoU is that track (re-detection refreshes it). */
  matchIou: number;
  /** Crop side = side of the landmarks' bounding box x this factor (keeps the face where FaceMesh was trained to see it). */
  meshBoxToCrop: number;
}

export interface Candidate {
  /** Existing track id, or null for a newly detected face. */
  trackId: number | null;
  cropBox: Box;
}

export interface LandmarkOutcome {
  candidate: Candidate;
  meshScore: number;
  /** Tight box of the landmarks, in analysis pixels. */
  meshBox: Box;
}

interface Track {
  id: number;
  cropBox: Box;
  meshBox: Box;
}

/**
 * Per-stream face tracker (pure, no tensors): decides when the detector must run, turns the previous frame's landmarks
 * into this frame's crops (FaceMesh tracks a face by itself as long as it stays in the crop), keeps stable track ids,
 * and drops a track when FaceMesh's face flag falls below minMeshScore. A face that leaves and comes back gets a new id.
 */
export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private framesSinceDetect = Number.POSITIVE_INFINITY;
  private counters = { detections: 0, trackedFrames: 0, lost: 0, created: 0 };

  constructor(private readonly opts: TrackerOptions) {}

  /**
   * Whether this frame needs the detector: the periodic re-detection is due, or there is no track (then every
   * idleDetectEveryFrames frames; right away after a track was lost).
   */
  needsDetection(): boolean {
    if (this.tracks.length === 0) return this.framesSinceDetect >= this.opts.idleDetectEveryFrames;
    return this.framesSinceDetect >= this.opts.redetectEveryFrames;
  }

  /** Crops to run FaceMesh on this frame: every live track, plus detections that match no track (new faces). */
  candidates(detections: { cropBox: Box; score: number }[] | null): Candidate[] {
    if (detections) {
      // Counts the detection frame itself: with N = 10, frames 0, 10, 20, ... run the detector.
      this.framesSinceDetect = 1;
      this.counters.detections++;
    } else {
      this.framesSinceDetect++;
      this.counters.trackedFrames++;
    }
    const out: Candidate[] = this.tracks.map((t) => ({ trackId: t.id, cropBox: t.cropBox }));
    for (const d of detections ?? []) {
      const matched = out.some((c) => iou(c.cropBox, d.cropBox) > this.opts.matchIou);
      if (!matched) out.push({ trackId: null, cropBox: d.cropBox });
    }
    // Largest faces first; a few spare candidates so a false detection cannot crowd out a real face.
    out.sort((a, b) => boxArea(b.cropBox) - boxArea(a.cropBox));
    return out.slice(0, this.opts.maxFaces + 2);
  }

  /** Commits FaceMesh's verdicts; returns the kept faces (largest first, at most maxFaces) with their track ids. */
  update(outcomes: LandmarkOutcome[]): { trackId: number; outcome: LandmarkOutcome }[] {
    const alive = outcomes
      .filter((o) => o.meshScore >= this.opts.minMeshScore)
      .sort((a, b) => boxArea(b.meshBox) - boxArea(a.meshBox));
    const kept: { trackId: number; outcome: LandmarkOutcome }[] = [];
    const next: Track[] = [];
    // Existing tracks claim their faces before new ones so ids stay stable when two crops converge on one face.
    const ordered = [...alive.filter((o) => o.candidate.trackId !== null), ...alive.filter((o) => o.candidate.trackId === null)];
    for (const o of ordered) {
      if (next.length >= this.opts.maxFaces) break;
      if (next.some((t) => iou(t.meshBox, o.meshBox) > 0.5)) continue; // same face seen through two crops
      let id = o.candidate.trackId;
      if (id === null) {
        id = this.nextId++;
        this.counters.created++;
      }
      next.push({ id, meshBox: o.meshBox, cropBox: squareAround(o.meshBox, this.opts.meshBoxToCrop) });
      kept.push({ trackId: id, outcome: o });
    }
    const lostNow = this.tracks.filter((t) => !next.some((n) => n.id === t.id)).length;
    this.counters.lost += lostNow;
    // Losing a face forces a detection on the next frame (it may have moved faster than the crop can follow).
    if (lostNow > 0) this.framesSinceDetect = Number.POSITIVE_INFINITY;
    this.tracks = next;
    kept.sort((a, b) => boxArea(b.outcome.meshBox) - boxArea(a.outcome.meshBox));
    return kept;
  }

  trackIds(): number[] {
    return this.tracks.map((t) => t.id);
  }

  reset(): void {
    this.tracks = [];
    this.framesSinceDetect = Number.POSITIVE_INFINITY;
  }

  stats(): Record<string, number> {
    return { ...this.counters, tracks: this.tracks.length };
  }
}
