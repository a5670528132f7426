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

/** Cepstral coefficients (c1..c12 of the DCT-II of the normalised log-mel frame) of the spectro-temporal group. */
export const SPECTRO_TEMPORAL_CEPSTRA = 12;
/** Modulation bands of the frame-energy track (Hz, [lo, hi)) of the spectro-temporal group. */
export const MODULATION_BANDS_HZ: readonly (readonly [number, number])[] = [[1, 2], [2, 4], [4, 8], [8, 16]];
/** Values the optional spectro-temporal group adds after the base set (and the voice-quality group, when present). */
export const SPECTRO_TEMPORAL_COUNT = 2 * SPECTRO_TEMPORAL_CEPSTRA + MODULATION_BANDS_HZ.length;

/** Values the optional shape group adds last (pitch-contour and distribution shape; see shapeFunctionals). */
export const SHAPE_COUNT = 7 + 8;

/** Optional functional groups beyond the base set. */
export interface FunctionalGroups {
  /** YIN aperiodicity, CMND minimum, voiced energy change, spectral flux (needs the voice tracks). */
  voiceQuality?: boolean;
  /** Cepstral dynamics (std and delta std of c1..c12) and the frame-energy modulation spectrum (1-16 Hz). */
  spectroTemporal?: boolean;
}

/** Values per window of a functionals configuration, before the speaker-normalised copy (which doubles it). */
export function rawFunctionalCount(voiceQuality: boolean, spectroTemporal = false, shape = false): number {
  return FUNCTIONAL_COUNT + (voiceQuality ? VOICE_QUALITY_COUNT : 0) + (spectroTemporal ? SPECTRO_TEMPORAL_COUNT : 0) + (shape ? SHAPE_COUNT : 0);
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
  spectroTemporal = false, shape = false,
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
  if (spectroTemporal) o = spectroTemporalFunctionals(win, energy, frames, bands, out, o);
  if (shape) o = shapeFunctionals(win, pitchSt, energy, frames, bands, out, o);
  const expected = rawFunctionalCount(voice !== undefined, spectroTemporal, shape);
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

const dctTables = new Map<number, Float64Array>();
/** cos(pi k (b + 0.5) / bands) for k = 1..SPECTRO_TEMPORAL_CEPSTRA, row k - 1. */
function dctTable(bands: number): Float64Array {
  let t = dctTables.get(bands);
  if (!t) {
    t = new Float64Array(SPECTRO_TEMPORAL_CEPSTRA * bands);
    for (let k = 1; k <= SPECTRO_TEMPORAL_CEPSTRA; k++) for (let b = 0; b < bands; b++) t[(k - 1) * bands + b] = Math.cos(Math.PI * k * (b + 0.5) / bands);
    dctTables.set(bands, t);
  }
  return t;
}

const dftRows = new Map<string, { cos: Float64Array; sin: Float64Array }>();
/** cos / sin of 2 pi j t / frames, t = 0..frames-1 (cached: windows have one length). */
function dftRow(frames: number, j: number): { cos: Float64Array; sin: Float64Array } {
  const key = `${frames}:${j}`;
  let r = dftRows.get(key);
  if (!r) {
    r = { cos: new Float64Array(frames), sin: new Float64Array(frames) };
    for (let t = 0; t < frames; t++) { r.cos[t] = Math.cos(2 * Math.PI * j * t / frames); r.sin[t] = Math.sin(2 * Math.PI * j * t / frames); }
    dftRows.set(key, r);
  }
  return r;
}

/**
 * Spectro-temporal group: standard deviation and delta standard deviation over the window of the cepstral
 * coefficients c1..c12 (DCT-II of each normalised log-mel frame: spectral-envelope dynamics, which per-band statistics
 * miss because they ignore the covariance between bands), then the share of the frame-energy track's variance in the
 * 1-2, 2-4, 4-8 and 8-16 Hz modulation bands (syllable rate and faster; a DFT of the mean-removed energy over the
 * window, each share as log(1e-4 + share)).
 */
function spectroTemporalFunctionals(win: Float32Array, energy: Float32Array, frames: number, bands: number, out: Float32Array, o: number): number {
  const K = SPECTRO_TEMPORAL_CEPSTRA, dct = dctTable(bands);
  const s = new Float64Array(K), s2 = new Float64Array(K), d2 = new Float64Array(K), prev = new Float64Array(K);
  for (let t = 0; t < frames; t++) {
    const row = t * bands;
    for (let k = 0; k < K; k++) {
      let c = 0;
      const tk = k * bands;
      for (let b = 0; b < bands; b++) c += dct[tk + b] * win[row + b];
      s[k] += c; s2[k] += c * c;
      if (t > 0) d2[k] += (c - prev[k]) ** 2;
      prev[k] = c;
    }
  }
  for (let k = 0; k < K; k++) {
    const m = s[k] / frames;
    out[o + k] = Math.sqrt(Math.max(0, s2[k] / frames - m * m));
    out[o + K + k] = Math.sqrt(d2[k] / Math.max(1, frames - 1));
  }
  o += 2 * K;
  // Modulation spectrum of the energy track (100 frames per second): bin j is j * 100 / frames Hz.
  let em = 0;
  for (let t = 0; t < frames; t++) em += energy[t];
  em /= frames;
  let total = 0;
  for (let t = 0; t < frames; t++) total += (energy[t] - em) ** 2;
  // Parseval: sum over bins 1..frames-1 of |X_j|^2 = frames * total; one-sided bins count twice.
  const denom = frames * total;
  for (const [lo, hi] of MODULATION_BANDS_HZ) {
    let p = 0;
    const j0 = Math.ceil(lo * frames / 100), j1 = Math.ceil(hi * frames / 100);
    for (let j = j0; j < j1 && 2 * j < frames; j++) {
      const { cos, sin } = dftRow(frames, j);
      let re = 0, im = 0;
      for (let t = 0; t < frames; t++) { const x = energy[t] - em; re += x * cos[t]; im -= x * sin[t]; }
      p += 2 * (re * re + im * im);
    }
    out[o++] = Math.log(1e-4 + (denom > 1e-12 ? p / denom : 0));
  }
  return o;
}

/** Skewness and excess kurtosis of n values (0 when the spread is ~0). */
function moments34(xs: ArrayLike<number>, n: number): [number, number] {
  if (n < 3) return [0, 0];
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i];
  m /= n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let i = 0; i < n; i++) { const d = xs[i] - m; m2 += d * d; m3 += d * d * d; m4 += d * d * d * d; }
  m2 /= n; m3 /= n; m4 /= n;
  if (m2 < 1e-8) return [0, 0];
  return [m3 / m2 ** 1.5, m4 / (m2 * m2) - 3];
}

/**
 * Shape group: pitch-contour shape over voiced frames (quadratic curvature in semitones per s², last third minus first
 * third of the voiced frames' mean, share of rising and of falling frame pairs (|change| > 0.1 semitone), skewness),
 * skewness and excess kurtosis of the frame energy, and the skewness of the normalised log-mel in 8 groups of 5 bands.
 */
function shapeFunctionals(win: Float32Array, pitchSt: Float32Array, energy: Float32Array, frames: number, bands: number, out: Float32Array, o: number): number {
  const vt: number[] = [], vs: number[] = [];
  let rise = 0, fall = 0, pairs = 0;
  for (let t = 0; t < frames; t++) {
    const p = pitchSt[t];
    if (Number.isNaN(p)) continue;
    if (t > 0 && !Number.isNaN(pitchSt[t - 1])) { const d = p - pitchSt[t - 1]; pairs++; if (d > 0.1) rise++; else if (d < -0.1) fall++; }
    vt.push(t / 100); vs.push(p);
  }
  const n = vs.length;
  if (n >= 6) {
    // Least squares y = a + b t + c t² on centred t.
    let mt = 0;
    for (const t of vt) mt += t;
    mt /= n;
    let s2 = 0, s3 = 0, s4 = 0, sy = 0, sty = 0, st2y = 0;
    for (let i = 0; i < n; i++) { const t = vt[i] - mt, y = vs[i]; s2 += t * t; s3 += t * t * t; s4 += t * t * t * t; sy += y; sty += t * y; st2y += t * t * y; }
    // Normal equations [[n, 0, s2], [0, s2, s3], [s2, s3, s4]] [a b c] = [sy sty st2y].
    const det = n * (s2 * s4 - s3 * s3) - s2 * (s2 * s2);
    const c = Math.abs(det) > 1e-12 ? (n * (s2 * st2y - s3 * sty) - s2 * (s2 * sy)) / det : 0;
    out[o++] = Number.isFinite(c) ? c : 0;
    const third = Math.floor(n / 3);
    let first = 0, last = 0;
    for (let i = 0; i < third; i++) { first += vs[i]; last += vs[n - 1 - i]; }
    out[o++] = (last - first) / third;
    out[o++] = pairs > 0 ? rise / pairs : 0;
    out[o++] = pairs > 0 ? fall / pairs : 0;
    out[o++] = moments34(vs, n)[0];
  } else {
    out.fill(0, o, o + 5);
    o += 5;
  }
  const [es, ek] = moments34(energy, frames);
  out[o++] = es;
  out[o++] = ek;
  const group = bands / 8, vals = new Float32Array(frames);
  for (let g = 0; g < 8; g++) {
    for (let t = 0; t < frames; t++) {
      let s = 0;
      for (let b = g * group; b < (g + 1) * group; b++) s += win[t * bands + b];
      vals[t] = s / group;
    }
    out[o++] = moments34(vals, frames)[0];
  }
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
