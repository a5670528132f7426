import { MODEL_SAMPLE_RATE } from './audio-input.js';

interface ChunkMark {
  startSample: number;
  /** Absolute 16 kHz sample index one past the chunk's last sample. */
  endSample: number;
  ptsUs: number;
}

/**
 * Keeps the most recent `capacitySamples` of 16 kHz mono audio on the session's sample clock (sample 0 is the first
 * audio sample of the session, at client time `originUs`). Audio time is counted in samples, not taken from every
 * chunk's pts: clients stream contiguous audio, and pts only anchors the start and orders the chunks.
 */
export class AudioWindower {
  private readonly ring: Float32Array;
  private total = 0;
  private origin: number | null = null;
  private marks: ChunkMark[] = [];

  constructor(readonly capacitySamples: number) {
    this.ring = new Float32Array(capacitySamples);
  }

  get originUs(): number | null {
    return this.origin;
  }

  /** Absolute samples received so far. */
  get totalSamples(): number {
    return this.total;
  }

  /** Session time (client clock, µs) just after the last sample received, or null before any audio. */
  get endUs(): number | null {
    return this.origin === null ? null : this.origin + this.samplesToUs(this.total);
  }

  samplesToUs(samples: number): number {
    return (samples * 1e6) / MODEL_SAMPLE_RATE;
  }

  /** Absolute sample index at client time `us` (may be negative or beyond the end). */
  usToSample(us: number): number {
    if (this.origin === null) return 0;
    return Math.round(((us - this.origin) * MODEL_SAMPLE_RATE) / 1e6);
  }

  push(samples16k: Float32Array, ptsUs: number): void {
    if (this.origin === null) this.origin = ptsUs;
    const n = samples16k.length;
    const cap = this.capacitySamples;
    const src = n > cap ? samples16k.subarray(n - cap) : samples16k;
    // At most two contiguous copies (up to the end of the ring, then from its start).
    const pos = (this.total + (n - src.length)) % cap;
    const first = Math.min(src.length, cap - pos);
    this.ring.set(src.subarray(0, first), pos);
    if (first < src.length) this.ring.set(src.subarray(first), 0);
    this.total += n;
    this.marks.push({ startSample: this.total - n, endSample: this.total, ptsUs });
    // Marks older than the ring are useless; keep the list bounded.
    const oldest = this.total - cap;
    while (this.marks.length > 1 && this.marks[0].endSample <= oldest) this.marks.shift();
  }

  /** Copy of samples [startSample, endSample) that are still held; out-of-range parts are dropped. */
  samples(startSample: number, endSample: number): Float32Array {
    const lo = Math.max(startSample, this.total - this.capacitySamples, 0);
    const hi = Math.min(endSample, this.total);
    if (hi <= lo) return new Float32Array(0);
    const out = new Float32Array(hi - lo);
    for (let s = lo, i = 0; s < hi; s++, i++) out[i] = this.ring[s % this.capacitySamples];
    return out;
  }

  /** pts of the last chunk that has samples inside [startUs, endUs), or null when none. */
  lastPtsIn(startUs: number, endUs: number): number | null {
    if (this.origin === null) return null;
    const startSample = this.usToSample(startUs);
    const endSample = this.usToSample(endUs);
    let best: number | null = null;
    for (const m of this.marks) if (m.endSample > startSample && m.startSample < endSample) best = m.ptsUs;
    return best;
  }

  reset(): void {
    this.total = 0;
    this.origin = null;
    this.marks = [];
    this.ring.fill(0);
  }

  stats(): Record<string, number> {
    return { totalSamples: this.total, marks: this.marks.length };
  }
}
