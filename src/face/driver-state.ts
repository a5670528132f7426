import type { DriverState } from '../protocol/v1/face-tracks.js';
import type { HeadPose } from './au-geometry.js';

export type { DriverState };

/**
 * Driver-state signals of one tracked face from FaceMesh landmarks (docs/driver-state.md has every definition and
 * its source). Pure: feed it each analysed frame of the track with its time, read `state()`.
 *
 * Eye aspect ratio (Soukupová & Čech, "Real-Time Eye Blink Detection using Facial Landmarks", CVWW 2016):
 *   EAR = (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|), p1/p4 the eye corners, p2/p3 upper lid, p6/p5 lower lid.
 * On FaceMesh: subject's right eye 33, 160, 158, 133, 153, 144; left eye 362, 385, 387, 263, 373, 380.
 */
export const EYE_POINTS = { right: [33, 160, 158, 133, 153, 144], left: [362, 385, 387, 263, 373, 380] } as const;
/** Inner lips (13 upper, 14 lower) and mouth corners (61, 291): mouth aspect ratio = opening / width. */
const MOUTH = { upper: 13, lower: 14, right: 61, left: 291 } as const;

export interface DriverStateOptions {
  /** Open-eye EAR before a person's own reference is known (population value, Soukupová & Čech report ~0.3). */
  defaultOpenEar: number;
  /** An eye counts as closed at openness <= this (PERCLOS P80: at least 80 % closed). */
  closedOpenness: number;
  /** A closure up to this long is a blink; longer is a long closure (counted in PERCLOS, not as a blink). */
  maxBlinkMs: number;
  /** PERCLOS and blink-rate window. */
  windowMs: number;
  /** Mouth aspect ratio at or above which the mouth counts as wide open, and how long it must last to be a yawn. */
  yawnMar: number;
  minYawnMs: number;
}

export const DEFAULT_DRIVER_STATE: Readonly<DriverStateOptions> = Object.freeze({
  defaultOpenEar: 0.3,
  closedOpenness: 0.2,
  maxBlinkMs: 500,
  windowMs: 60_000,
  yawnMar: 0.6,
  minYawnMs: 1500,
});


const dist = (m: ArrayLike<number>, a: number, b: number): number => Math.hypot(m[a * 3] - m[b * 3], m[a * 3 + 1] - m[b * 3 + 1], m[a * 3 + 2] - m[b * 3 + 2]);

/** Soukupová & Čech's EAR of one eye given its six FaceMesh points (p1..p6). */
export function eyeAspectRatio(mesh: ArrayLike<number>, p: readonly number[]): number {
  const width = dist(mesh, p[0], p[3]);
  return width > 0 ? (dist(mesh, p[1], p[5]) + dist(mesh, p[2], p[4])) / (2 * width) : 0;
}

export function mouthAspectRatio(mesh: ArrayLike<number>): number {
  const width = dist(mesh, MOUTH.right, MOUTH.left);
  return width > 0 ? dist(mesh, MOUTH.upper, MOUTH.lower) / width : 0;
}

const RAD = 180 / Math.PI;
/** Frames of open-eye history kept for the person's open-eye reference (~30 s at 10 fps). */
const OPEN_HISTORY = 300;

export class DriverStateTracker {
  private readonly o: DriverStateOptions;
  /** Recent EARs (both eyes' mean) for the person's open-eye reference. */
  private readonly earHistory: number[] = [];
  private openEarCache: number | null = null;
  /** Closed/open intervals in the window: [startMs, endMs, closed]. */
  private readonly spans: [number, number, boolean][] = [];
  private readonly blinkLog: { endMs: number; durationMs: number }[] = [];
  private closedSinceMs: number | null = null;
  private mouthOpenSinceMs: number | null = null;
  private yawnCounted = false;
  private lastMs: number | null = null;
  private last: Omit<DriverState, 'blinksPerMinute' | 'meanBlinkMs' | 'perclos' | 'perclosWindowMs' | 'yawns' | 'blinks'> | null = null;
  private yawnCount = 0;
  private blinkCount = 0;

  constructor(options: Partial<DriverStateOptions> = {}) {
    this.o = { ...DEFAULT_DRIVER_STATE, ...options };
  }

  /** The person's open-eye EAR: the 90th percentile of recent EARs (most frames are open), never below half the population's. */
  private openEar(): number {
    if (this.openEarCache !== null) return this.openEarCache;
    if (this.earHistory.length < 20) return (this.openEarCache = this.o.defaultOpenEar);
    const s = [...this.earHistory].sort((a, b) => a - b);
    return (this.openEarCache = Math.max(this.o.defaultOpenEar / 2, s[Math.floor(s.length * 0.9)]));
  }

  /** One analysed frame of this track at `tMs` (monotonic, e.g. the frame's pts in ms). */
  update(mesh: ArrayLike<number>, pose: HeadPose, tMs: number): void {
    const earR = eyeAspectRatio(mesh, EYE_POINTS.right);
    const earL = eyeAspectRatio(mesh, EYE_POINTS.left);
    const open = this.openEar();
    const openness = (e: number): number => Math.min(1, Math.max(0, e / open));
    const eyeOpenness = { left: openness(earL), right: openness(earR) };
    const closed = eyeOpenness.left <= this.o.closedOpenness && eyeOpenness.right <= this.o.closedOpenness;
    this.earHistory.push((earL + earR) / 2);
    if (this.earHistory.length > OPEN_HISTORY) this.earHistory.shift();
    this.openEarCache = null;
    // The time since the previous frame belongs to the previous frame's eye state (sample and hold).
    if (this.lastMs !== null && this.last && tMs > this.lastMs) this.spans.push([this.lastMs, tMs, this.last.eyesClosed]);
    if (closed && this.closedSinceMs === null) this.closedSinceMs = tMs;
    if (!closed && this.closedSinceMs !== null) {
      const durationMs = tMs - this.closedSinceMs;
      if (durationMs <= this.o.maxBlinkMs) {
        this.blinkLog.push({ endMs: tMs, durationMs });
        this.blinkCount++;
      }
      this.closedSinceMs = null;
    }
    const mar = mouthAspectRatio(mesh);
    const wide = mar >= this.o.yawnMar;
    if (wide && this.mouthOpenSinceMs === null) this.mouthOpenSinceMs = tMs;
    if (!wide) {
      this.mouthOpenSinceMs = null;
      this.yawnCounted = false;
    }
    const yawning = this.mouthOpenSinceMs !== null && tMs - this.mouthOpenSinceMs >= this.o.minYawnMs;
    if (yawning && !this.yawnCounted) {
      this.yawnCount++;
      this.yawnCounted = true;
    }
    const horizon = tMs - this.o.windowMs;
    while (this.spans.length && this.spans[0][1] <= horizon) this.spans.shift();
    while (this.blinkLog.length && this.blinkLog[0].endMs <= horizon) this.blinkLog.shift();
    this.lastMs = tMs;
    this.last = {
      eyeOpenness,
      ear: { left: earL, right: earR },
      eyesClosed: closed,
      yawning,
      mouthAspectRatio: mar,
      headPose: { yawDeg: pose.yaw * RAD, pitchDeg: pose.pitch * RAD, rollDeg: pose.roll * RAD },
    };
  }

  /** The state after the last frame, or null before the first. */
  state(): DriverState | null {
    if (!this.last || this.lastMs === null) return null;
    const horizon = this.lastMs - this.o.windowMs;
    let observed = 0, closedMs = 0;
    for (const [a, b, c] of this.spans) {
      const d = b - Math.max(a, horizon);
      observed += d;
      if (c) closedMs += d;
    }
    const minutes = Math.max(observed, 1) / 60_000;
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      ...this.last,
      eyeOpenness: { left: r3(this.last.eyeOpenness.left), right: r3(this.last.eyeOpenness.right) },
      ear: { left: r3(this.last.ear.left), right: r3(this.last.ear.right) },
      mouthAspectRatio: r3(this.last.mouthAspectRatio),
      headPose: { yawDeg: +this.last.headPose.yawDeg.toFixed(1), pitchDeg: +this.last.headPose.pitchDeg.toFixed(1), rollDeg: +this.last.headPose.rollDeg.toFixed(1) },
      blinksPerMinute: observed > 0 ? +(this.blinkLog.length / minutes).toFixed(2) : 0,
      meanBlinkMs: this.blinkLog.length ? Math.round(this.blinkLog.reduce((s, b) => s + b.durationMs, 0) / this.blinkLog.length) : null,
      perclos: observed > 0 ? r3(closedMs / observed) : 0,
      perclosWindowMs: Math.round(observed),
      yawns: this.yawnCount,
      blinks: this.blinkCount,
    };
  }
}
