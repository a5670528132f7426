/**
 * Window-level functionals (statistics over the 3 s window) of frame-level descriptors: the speaker-normalised
 * log-mel frames the CNN sees, their deltas, frame energy, spectral tilt, and the pitch track (semitones relative to
 * the speaker's mean F0). A model of a different kind from the CNN: it sees global prosody (F0 level, range, slope)
 * explicitly, which a CNN on 40 mel bands can only infer from harmonics it barely resolves.
 */
import { RunningMeanVar, type MeanStd } from './running-stats.js';

/** Number of values per window (the base set). */
export const FUNCTIONAL_COUNT = 40 * 3 + 6 + 1 + 2 + 8;
/** Values the optional voice-quality group adds after the base set. */
export const VOICE_QUALITY_COUNT = 6;

/** Values per window of a functionals configuration, before the speaker-normalised copy (which doubles it). */
export function rawFunctionalCount(voiceQuality: boolean): number {
  return FUNCTIONAL_COUNT + (voiceQuality ? VOICE_QUALITY_COUNT : 0);
}

/**
 * Per-frame voice-quality tracks of a window (same frames as the pitch track): YIN's cumulative mean normalised
 * difference at the chosen period (an aperiodicity / HNR proxy; NaN where unvoiced or padded) and its minimum over
 * all allowed lags (how periodic the frame is at best; 1 for a silent buffer, NaN where padded).
 */
export interface VoiceTracks {
  aperiodicity: Float32Array;
  minCmnd: Float32Array;
}

function percentile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Least-squares slope of y over t = 0..n-1 (units per frame), 0 when fewer than 2 points. */
function slope(ts: ArrayLike<number>, ys: ArrayLike<number>, n: number): number {
  if (n < 2) return 0;
  let mt = 0, my = 0;
  for (let i = 0; i < n; i++) { mt += ts[i]; my += ys[i]; }
  mt /= n; my /= n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (ts[i] - mt) * (ys[i] - my); den += (ts[i] - mt) * (ts[i] - mt); }
  return den > 0 ? num / den : 0;
}

/**
 * Functionals of one window. `win` holds `frames x bands` speaker-normalised log-mel values (padding = 0, as the CNN
 * sees it); `pitchSt[t]` the frame's F0 in semitones relative to the speaker's mean, NaN when unvoiced. Slopes are
 * per second (100 frames) so their scale is comparable to the means.
 */
export function windowFunctionals(
  win: Float32Array, pitchSt: Float32Array, frames: number, bands: number, out: Float32Array, offset: number, voice?: VoiceTracks,
): void {
  let o = offset;
  // Per band: mean, std, std of the first difference.
  for (let b = 0; b < bands; b++) {
    let s = 0, s2 = 0, d2 = 0;
    for (let t = 0; t < frames; t++) {
      const x = win[t * bands + b];
      s += x; s2 += x * x;
      if (t > 0) { const d = x - win[(t - 1) * bands + b]; d2 += d * d; }
    }
    const m = s / frames;
    out[o + b] = m;
    out[o + bands + b] = Math.sqrt(Math.max(0, s2 / frames - m * m));
    out[o + 2 * bands + b] = Math.sqrt(d2 / Math.max(1, frames - 1));
  }
  o += 3 * bands;
  // Frame energy (mean normalised band value) and spectral tilt (low minus high bands).
  const energy = new Float32Array(frames), tilt = new Float32Array(frames), ts = new Float32Array(frames);
  for (let t = 0; t < frames; t++) {
    let e = 0, tl = 0;
    for (let b = 0; b < bands; b++) { const x = win[t * bands + b]; e += x; tl += x * (0.5 - b / (bands - 1)); }
    energy[t] = e / bands; tilt[t] = tl / bands; ts[t] = t / 100;
  }
  let em = 0, e2 = 0, de2 = 0, tm = 0, t2 = 0;
  for (let t = 0; t < frames; t++) {
    em += energy[t]; e2 += energy[t] * energy[t]; tm += tilt[t]; t2 += tilt[t] * tilt[t];
    if (t > 0) de2 += (energy[t] - energy[t - 1]) ** 2;
  }
  em /= frames; tm /= frames;
  const sortedE = Float32Array.from(energy).sort();
  out[o++] = em;
  out[o++] = Math.sqrt(Math.max(0, e2 / frames - em * em));
  out[o++] = percentile(sortedE, 0.1);
  out[o++] = percentile(sortedE, 0.5);
  out[o++] = percentile(sortedE, 0.9);
  out[o++] = slope(ts, energy, frames);
  out[o++] = Math.sqrt(de2 / Math.max(1, frames - 1));
  out[o++] = tm;
  out[o++] = Math.sqrt(Math.max(0, t2 / frames - tm * tm));
  // Pitch over voiced frames.
  const vt: number[] = [], vs: number[] = [];
  let jump = 0, jumps = 0;
  for (let t = 0; t < frames; t++) {
    const p = pitchSt[t];
    if (Number.isNaN(p)) continue;
    if (t > 0 && !Number.isNaN(pitchSt[t - 1])) { jump += Math.abs(p - pitchSt[t - 1]); jumps++; }
    vt.push(t / 100); vs.push(p);
  }
  const n = vs.length;
  out[o++] = n / frames;
  if (n >= 3) {
    let pm = 0, p2 = 0;
    for (const p of vs) { pm += p; p2 += p * p; }
    pm /= n;
    const sorted = Float32Array.from(vs).sort();
    const p10 = percentile(sorted, 0.1), p90 = percentile(sorted, 0.9);
    out[o++] = pm;
    out[o++] = Math.sqrt(Math.max(0, p2 / n - pm * pm));
    out[o++] = p10;
    out[o++] = p90;
    out[o++] = p90 - p10;
    out[o++] = slope(vt, vs, n);
    out[o++] = jumps > 0 ? jump / jumps : 0;
  } else {
    out.fill(0, o, o + 7);
    o += 7;
  }
  if (voice) o = voiceQualityFunctionals(win, pitchSt, energy, voice, frames, bands, out, o);
  const expected = rawFunctionalCount(voice !== undefined);
  if (o - offset !== expected) throw new Error(`windowFunctionals: wrote ${o - offset} values, expected ${expected}`);
}

/**
 * Voice-quality group: aperiodicity mean and std over voiced frames, mean CMND minimum over the window's audio frames,
 * shimmer-like mean absolute energy change between consecutive voiced frames, and the mean and std over the window of
 * the spectral flux (positive part of the frame-to-frame change of the normalised log-mel, averaged over bands).
 */
function voiceQualityFunctionals(
  win: Float32Array, pitchSt: Float32Array, energy: Float32Array, voice: VoiceTracks, frames: number, bands: number, out: Float32Array, o: number,
): number {
  let am = 0, a2 = 0, n = 0, mc = 0, nm = 0, sh = 0, ns = 0;
  for (let t = 0; t < frames; t++) {
    const m = voice.minCmnd[t];
    if (!Number.isNaN(m)) { mc += m; nm++; }
    if (Number.isNaN(pitchSt[t])) continue;
    const a = voice.aperiodicity[t];
    am += a; a2 += a * a; n++;
    if (t > 0 && !Number.isNaN(pitchSt[t - 1])) { sh += Math.abs(energy[t] - energy[t - 1]); ns++; }
  }
  const mean = n > 0 ? am / n : 0;
  out[o++] = mean;
  out[o++] = n > 1 ? Math.sqrt(Math.max(0, a2 / n - mean * mean)) : 0;
  out[o++] = nm > 0 ? mc / nm : 1;
  out[o++] = ns > 0 ? sh / ns : 0;
  let fm = 0, f2 = 0;
  for (let t = 1; t < frames; t++) {
    let s = 0;
    for (let b = 0; b < bands; b++) s += Math.max(0, win[t * bands + b] - win[(t - 1) * bands + b]);
    s /= bands; fm += s; f2 += s * s;
  }
  const nf = Math.max(1, frames - 1);
  fm /= nf;
  out[o++] = fm;
  out[o++] = Math.sqrt(Math.max(0, f2 / nf - fm * fm));
  return o;
}

/** Per-functional statistics of one speaker's windows (the speaker normaliser of the functionals). */
export type FunctionalNormStats = MeanStd;

/** Lower bound on a functional's speaker standard deviation (some, e.g. pitch statistics of a silent speaker, are constant). */
export const FUNCTIONAL_MIN_STD = 1e-3;

/**
 * Running per-speaker mean/variance of window functionals (Chan/Welford in float64), optionally seeded with a prior
 * (the training speakers' average statistics) that counts as `weightWindows` windows. Training uses the statistics of
 * all of a speaker's scored windows; the server adds each new window of the session, so it converges to the same.
 * Std-type functionals, energy percentiles or the pitch range are absolute in the raw vector: z-scored per speaker
 * they say "more varied / louder / wider than this speaker usually is", the way the log-mel normaliser does per band.
 */
export class FunctionalStatsAccumulator {
  private readonly acc: RunningMeanVar;

  constructor(readonly dims: number, prior?: { stats: FunctionalNormStats; weightWindows: number }) {
    if (prior && prior.weightWindows > 0 && (prior.stats.mean.length !== dims || prior.stats.std.length !== dims)) {
      throw new Error(`functional prior: expected ${dims} values`);
    }
    this.acc = new RunningMeanVar(dims, prior && { mean: prior.stats.mean, std: prior.stats.std, weight: prior.weightWindows });
  }

  add(x: ArrayLike<number>, offset = 0): void {
    this.acc.add(x, offset);
  }

  get windows(): number {
    return this.acc.count;
  }

  stats(): FunctionalNormStats {
    return this.acc.stats(FUNCTIONAL_MIN_STD, 'functional statistics: no window and no prior');
  }
}

/** out[offset + d] = (x[d] - mean[d]) / std[d]: the speaker-normalised copy of a functionals vector. */
export function normaliseFunctionals(x: ArrayLike<number>, stats: FunctionalNormStats, out: Float32Array, offset: number): void {
  for (let d = 0; d < stats.mean.length; d++) out[offset + d] = (x[d] - stats.mean[d]) / stats.std[d];
}
