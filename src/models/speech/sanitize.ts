/**
 * Defined behaviour for bad samples: NaN/Infinity become 0 and values outside [-1, 1] are clamped (a clipped or
 * wrongly scaled source, e.g. int16 values sent as floats); both are counted so the server can report them.
 */
export class SampleSanitizer {
  private nonFinite = 0;
  private clipped = 0;

  clean(samples: Float32Array): Float32Array {
    let out: Float32Array | null = null;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i];
      let y = x;
      if (!Number.isFinite(x)) { y = 0; this.nonFinite++; }
      else if (x > 1) { y = 1; this.clipped++; }
      else if (x < -1) { y = -1; this.clipped++; }
      if (y !== x) {
        out ??= Float32Array.from(samples);
        out[i] = y;
      }
    }
    return out ?? samples;
  }

  reset(): void {
    this.nonFinite = 0;
    this.clipped = 0;
  }

  stats(): Record<string, number> {
    return { nonFiniteSamples: this.nonFinite, clampedSamples: this.clipped };
  }
}
