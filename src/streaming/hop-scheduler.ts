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
 */
export class HopScheduler {
  private originUs: number | null = null;
  private nextIndex = 0;
  private lastEndUs: number | null = null;

  constructor(readonly windowUs: number, readonly hopUs: number) {
    if (!(hopUs > 0) || !(windowUs >= hopUs)) throw new Error(`need 0 < hop (${hopUs}) <= window (${windowUs})`);
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

  /** All hops whose end is at or before `clockUs`, in order. */
  advance(clockUs: number): Hop[] {
    if (this.originUs === null) return [];
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
    const endUs = Math.max(clockUs ?? this.originUs, this.lastEndUs ?? this.originUs);
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
  }

  stats(): Record<string, number> {
    return { emitted: this.nextIndex };
  }
}
