export interface Hop {
  /** 0-based hop index since the session's first frame. */
  index: number;
  startUs: number;
  endUs: number;
  final: boolean;
}

/**
 * Decides when a result is due: every `hopUs` of session time after the first frame of any modality, over the
 * window [end - windowUs, end) clipped to the session start. Pure: the session clock is whatever media time the
 * caller reports (the newest sample or frame received).
 *
 * One `advance` returns at most `maxHopsPerAdvance` hops, the newest ones: when the clock leaps (a long audio
 * frame, a burst, a timestamp jump) the older due hops are skipped, counted through `onSkip`, so the work one frame
 * can cause is bounded whatever its timestamp says. The caller sets the cap to what it can still queue.
 */
export class HopScheduler {
  private originUs: number | null = null;
  private nextIndex = 0;
  private lastEndUs: number | null = null;
  private skippedHops = 0;

  constructor(
    readonly windowUs: number,
    readonly hopUs: number,
    private readonly maxHopsPerAdvance = Infinity,
    private readonly onSkip?: (hops: number) => void,
  ) {
    if (!(hopUs > 0) || !(windowUs >= hopUs)) throw new Error(`need 0 < hop (${hopUs}) <= window (${windowUs})`);
    if (!(maxHopsPerAdvance >= 1)) throw new Error(`maxHopsPerAdvance must be at least 1, got ${maxHopsPerAdvance}`);
  }

  get started(): boolean {
    return this.originUs !== null;
  }

  get emitted(): number {
    return this.nextIndex;
  }

  /** Anchors the clock at the first frame's pts (no-op afterwards). */
  start(ptsUs: number): void {
    if (this.originUs === null) this.originUs = ptsUs;
  }

  /** The hops whose end is at or before `clockUs`, in order (the newest `maxHopsPerAdvance` of them). */
  advance(clockUs: number): Hop[] {
    if (this.originUs === null) return [];
    // Counted, not looped: hop i ends at origin + (i + 1) * hop.
    const dueCount = Math.floor((clockUs - this.originUs) / this.hopUs) - this.nextIndex;
    if (dueCount > this.maxHopsPerAdvance) {
      const skip = dueCount - this.maxHopsPerAdvance;
      this.nextIndex += skip;
      this.skippedHops += skip;
      this.onSkip?.(skip);
    }
    const due: Hop[] = [];
    for (;;) {
      const endUs = this.originUs + (this.nextIndex + 1) * this.hopUs;
      if (endUs > clockUs) break;
      due.push(this.make(endUs, false));
    }
    return due;
  }

  /** The final hop at end of stream: up to the clock, or a repeat of the last window when nothing new arrived. */
  flush(clockUs: number | null): Hop {
    if (this.originUs === null) return { index: this.nextIndex++, startUs: 0, endUs: 0, final: true };
    // Audio time is counted in 16 kHz samples (62.5 µs each): the final window still ends on a whole microsecond.
    const endUs = Math.round(Math.max(clockUs ?? this.originUs, this.lastEndUs ?? this.originUs));
    return this.make(endUs, true);
  }

  private make(endUs: number, final: boolean): Hop {
    const hop = { index: this.nextIndex++, startUs: Math.max(this.originUs!, endUs - this.windowUs), endUs, final };
    this.lastEndUs = endUs;
    return hop;
  }

  reset(): void {
    this.originUs = null;
    this.nextIndex = 0;
    this.lastEndUs = null;
    this.skippedHops = 0;
  }

  stats(): Record<string, number> {
    return { emitted: this.nextIndex, skipped: this.skippedHops };
  }
}

/**
 * Media clock: how far the session's media has arrived, from each stream's end (null: the stream has not started).
 * With several modalities streaming, the slowest live one decides, so a window is cut only once audio and AUs both
 * reached its end; a stream that has fallen more than `stalledAfterUs` behind the newest counts as stalled and stops
 * holding results back. Null before any stream started.
 */
export function mediaClockUs(streamEndsUs: readonly (number | null)[], stalledAfterUs: number): number | null {
  // Runs on every audio chunk and AU frame: two passes over the (up to) three clocks, no filter/spread/Math.max(...).
  let newest = -Infinity;
  for (const c of streamEndsUs) if (c !== null && c > newest) newest = c;
  if (newest === -Infinity) return null;
  const stalledBefore = newest - stalledAfterUs;
  let clock = Infinity;
  for (const c of streamEndsUs) if (c !== null && c >= stalledBefore && c < clock) clock = c;
  return clock;
}
