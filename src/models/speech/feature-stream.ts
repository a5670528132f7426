import { LogMelFrameComputer } from '../../features/mel.js';
import type { MelConfig } from '../../features/mel-config.js';
import { SpeakerStatsAccumulator, type NormStats } from '../../features/speaker-norm.js';
import type { SpeechStream } from '../../contracts/models.js';
import { SampleSanitizer } from './sanitize.js';
import { PitchFrameComputer, SpeakerPitchAccumulator, pitchLookbackSamples, semitones, type PitchConfig } from '../../features/pitch.js';
import { FunctionalStatsAccumulator, normaliseFunctionals, rawFunctionalCount, windowFunctionals, type FunctionalNormStats } from '../../features/functionals.js';

/** What a features-kind SpeechStream hands to inferBatch: one normalised window. */
export interface FeatureWindow {
  kind: 'features';
  /** windowFrames x melBands, row-major, normalised with the session's running speaker statistics. */
  features: Float32Array;
  /** Frames that came from audio (the rest, on the left, are padding with the normalised mean 0, as in training). */
  validFrames: number;
  /** Frames above the activity gate: 0 means the window is silence. */
  activeFrames: number;
  endSample: number;
  /**
   * Window functionals (src/features/functionals.ts) of `features` and the pitch track, for models with a second
   * input; only when the stream was created with `pitch`.
   */
  functionals?: Float32Array;
}

/** Pitch tracking for models that take window functionals: YIN settings and the speaker pitch reference's prior. */
export interface StreamPitchOptions {
  config: PitchConfig;
  /** Mean log2 F0 of the training speakers (the running reference starts there). */
  priorLog2Hz: number;
  /** Voiced frames the prior counts for. */
  priorWeightFrames: number;
  /** Also compute the voice-quality functionals (YIN aperiodicity and CMND minimum per frame, energy change, flux). */
  voiceQuality?: boolean;
  /** Also compute the spectro-temporal functionals (cepstral dynamics, frame-energy modulation spectrum). */
  spectroTemporal?: boolean;
  /** Also compute the shape functionals (pitch-contour shape, energy and band-group skewness). */
  shape?: boolean;
  /**
   * Hand out the functionals z-scored with the session's running functional statistics (started from this prior of
   * the training speakers): the window's vector is then [raw, normalised] (keepRaw, twice the raw count) or the
   * normalised functionals only.
   */
  speakerNorm?: { prior: FunctionalNormStats; weightWindows: number; keepRaw: boolean };
}

export interface FeatureStreamOptions {
  mel: MelConfig;
  windowFrames: number;
  activityGate: number;
  prior: NormStats;
  /** How many frames the prior counts for in the running statistics (e.g. 300 = 3 s of speech). */
  priorWeightFrames: number;
  /** Frames kept for windows that end in the past (bounded memory). */
  historyFrames?: number;
  /** Also track pitch and hand window functionals out (models with a `functionals` input). */
  pitch?: StreamPitchOptions;
}

/**
 * Incremental log-mel front end for one session: each frame is computed once, when its last sample arrives,
 * and reused by every overlapping window (a 3 s window at a 0.5 s hop reuses 250 of its 300 frames).
 * A running per-speaker normaliser (seeded with the training prior) standardises each window causally.
 */
export class FeatureSpeechStream implements SpeechStream<FeatureWindow> {
  private readonly computer: LogMelFrameComputer;
  private readonly bands: number;
  private readonly historyFrames: number;
  /** Ring buffer of raw log-mel frames; frame f lives in slot f % historyFrames. */
  private readonly ring: Float32Array;
  private readonly active: Uint8Array;
  /** Samples not yet consumed by a complete frame; pending[0] is absolute sample `pendingStart`. */
  private pending: Float32Array;
  private pendingLength = 0;
  private pendingStart = 0;
  private nextFrame = 0;
  private totalSamples = 0;
  private stats_!: SpeakerStatsAccumulator;
  private readonly sanitizer = new SampleSanitizer();
  private windows = 0;
  private readonly pitchComputer: PitchFrameComputer | null;
  /** F0 (Hz, 0 = unvoiced) of frame f in slot f % historyFrames (only with `pitch`). */
  private readonly pitchRing: Float32Array;
  /** Aperiodicity and CMND minimum of frame f in slot f % historyFrames (only with `pitch.voiceQuality`). */
  private readonly aperiodicityRing: Float32Array;
  private readonly minCmndRing: Float32Array;
  /** Functionals per window before the speaker-normalised copy. */
  private readonly rawCount: number;
  private pitchRef!: SpeakerPitchAccumulator;
  /** Samples before a frame's start that its pitch buffer reads, kept in `pending`. */
  private readonly lookback: number;
  /** Running functional statistics (only with `pitch.speakerNorm`) and the end of the last window added to them. */
  private functionalStats: FunctionalStatsAccumulator | null = null;
  private lastNormEndSample = -Infinity;

  constructor(private readonly opts: FeatureStreamOptions) {
    this.computer = new LogMelFrameComputer(opts.mel);
    this.bands = opts.mel.melBands;
    this.historyFrames = Math.max(opts.windowFrames * 2, opts.historyFrames ?? 1000);
    this.ring = new Float32Array(this.historyFrames * this.bands);
    this.active = new Uint8Array(this.historyFrames);
    this.pending = new Float32Array(opts.mel.frameSamples * 4);
    this.pitchComputer = opts.pitch ? new PitchFrameComputer(opts.mel, opts.pitch.config) : null;
    this.pitchRing = new Float32Array(opts.pitch ? this.historyFrames : 0);
    const vq = opts.pitch?.voiceQuality === true;
    this.aperiodicityRing = new Float32Array(vq ? this.historyFrames : 0);
    this.minCmndRing = new Float32Array(vq ? this.historyFrames : 0);
    this.rawCount = rawFunctionalCount(vq, opts.pitch?.spectroTemporal === true, opts.pitch?.shape === true);
    this.lookback = opts.pitch ? pitchLookbackSamples(opts.mel, opts.pitch.config) : 0;
    this.reset();
  }

  push(samples16k: Float32Array): void {
    const clean = this.sanitizer.clean(samples16k);
    const { frameSamples, hopSamples } = this.opts.mel;
    if (this.pendingLength + clean.length > this.pending.length) {
      const grown = new Float32Array(Math.max(this.pending.length * 2, this.pendingLength + clean.length));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(clean, this.pendingLength);
    this.pendingLength += clean.length;
    this.totalSamples += clean.length;
    let consumed = 0; // samples (from pending[0]) no later frame needs
    for (;;) {
      const frameStart = this.nextFrame * hopSamples - this.pendingStart;
      if (frameStart + frameSamples > this.pendingLength) break;
      const slot = this.nextFrame % this.historyFrames;
      this.computer.compute(this.pending, frameStart, this.ring, slot * this.bands);
      this.active[slot] = this.stats_.add(this.ring, slot * this.bands) ? 1 : 0;
      if (this.pitchComputer) {
        // The pitch buffer reaches `lookback` samples before the frame: those before the stream's start read as 0
        // (as before a clip's start in training).
        const hz = this.pitchComputer.compute(this.pending.subarray(0, this.pendingLength), frameStart);
        this.pitchRing[slot] = hz;
        if (this.aperiodicityRing.length > 0) {
          this.aperiodicityRing[slot] = this.pitchComputer.lastAperiodicity;
          this.minCmndRing[slot] = this.pitchComputer.lastMinCmnd;
        }
        this.pitchRef.add(hz);
      }
      this.nextFrame++;
      consumed = Math.max(0, this.nextFrame * hopSamples - this.pendingStart - this.lookback);
    }
    if (consumed > 0) {
      this.pending.copyWithin(0, consumed, this.pendingLength);
      this.pendingLength -= consumed;
      this.pendingStart += consumed;
    }
  }

  /**
   * The window of the last windowSamples / hop frames (at most `windowFrames`) that end at or before `endSample`
   * (frame f ends at f * hop + frameLength). `windowSamples` shorter than the model's window is honoured by padding the older part
   * (as in training); longer windows are cropped to the model's window. Null when no frame of audio exists yet.
   */
  window(endSample: number, windowSamples: number): FeatureWindow | null {
    const { frameSamples, hopSamples } = this.opts.mel;
    const T = this.opts.windowFrames;
    if (!Number.isFinite(endSample) || !Number.isFinite(windowSamples) || windowSamples <= 0) {
      throw new Error(`speech window: bad endSample ${endSample} / windowSamples ${windowSamples}`);
    }
    const lastFrame = Math.min(this.nextFrame - 1, Math.floor((endSample - frameSamples) / hopSamples));
    if (lastFrame < 0) return null;
    // A window of N samples is the N / hop frames ending at endSample (3 s = 300 frames, the training crop length).
    const wantedFrames = Math.min(T, Math.max(1, Math.floor(windowSamples / hopSamples)));
    const oldestKept = Math.max(0, this.nextFrame - this.historyFrames);
    const firstFrame = Math.max(oldestKept, lastFrame - wantedFrames + 1, 0);
    const stats = this.stats_.stats();
    const features = new Float32Array(T * this.bands);
    const valid = lastFrame - firstFrame + 1;
    let activeFrames = 0;
    for (let f = firstFrame; f <= lastFrame; f++) {
      const slot = f % this.historyFrames;
      const row = (T - valid + (f - firstFrame)) * this.bands;
      activeFrames += this.active[slot];
      for (let b = 0; b < this.bands; b++) features[row + b] = (this.ring[slot * this.bands + b] - stats.mean[b]) / stats.std[b];
    }
    this.windows++;
    const win: FeatureWindow = { kind: 'features', features, validFrames: valid, activeFrames, endSample };
    if (this.pitchComputer) {
      const ref = this.pitchRef.meanLog2Hz();
      const st = new Float32Array(T).fill(NaN);
      for (let f = firstFrame; f <= lastFrame; f++) st[T - valid + (f - firstFrame)] = semitones(this.pitchRing[f % this.historyFrames], ref);
      let voice: { aperiodicity: Float32Array; minCmnd: Float32Array } | undefined;
      if (this.aperiodicityRing.length > 0) {
        // Padded frames are NaN in both tracks, as before a clip's start in training.
        voice = { aperiodicity: new Float32Array(T).fill(NaN), minCmnd: new Float32Array(T).fill(NaN) };
        for (let f = firstFrame; f <= lastFrame; f++) {
          const slot = f % this.historyFrames, t = T - valid + (f - firstFrame);
          voice.aperiodicity[t] = this.aperiodicityRing[slot];
          voice.minCmnd[t] = this.minCmndRing[slot];
        }
      }
      const norm = this.opts.pitch?.speakerNorm;
      const raw = new Float32Array(this.rawCount);
      windowFunctionals(features, st, T, this.bands, raw, 0, voice, this.opts.pitch?.spectroTemporal === true, this.opts.pitch?.shape === true);
      win.functionals = raw;
      if (norm && this.functionalStats) {
        // Each new window end (one per hop) joins the statistics once, before it is normalised (as a frame joins the
        // log-mel statistics before its window is built); a window asked for again, or a silent one, does not.
        if (endSample > this.lastNormEndSample && activeFrames > 0) {
          this.functionalStats.add(raw, 0);
          this.lastNormEndSample = endSample;
        }
        win.functionals = new Float32Array(norm.keepRaw ? 2 * this.rawCount : this.rawCount);
        if (norm.keepRaw) win.functionals.set(raw);
        normaliseFunctionals(raw, this.functionalStats.stats(), win.functionals, win.functionals.length - this.rawCount);
      }
    }
    return win;
  }

  reset(): void {
    this.stats_ = new SpeakerStatsAccumulator(this.bands, this.opts.activityGate, { stats: this.opts.prior, weightFrames: this.opts.priorWeightFrames });
    this.pendingLength = 0;
    this.pendingStart = 0;
    this.nextFrame = 0;
    this.totalSamples = 0;
    this.windows = 0;
    this.sanitizer.reset();
    this.ring.fill(0);
    this.active.fill(0);
    this.pitchRing.fill(0);
    this.aperiodicityRing.fill(NaN);
    this.minCmndRing.fill(NaN);
    this.pitchRef = new SpeakerPitchAccumulator(this.opts.pitch ? { meanLog2Hz: this.opts.pitch.priorLog2Hz, weightFrames: this.opts.pitch.priorWeightFrames } : undefined);
    const norm = this.opts.pitch?.speakerNorm;
    this.functionalStats = norm ? new FunctionalStatsAccumulator(this.rawCount, { stats: norm.prior, weightWindows: norm.weightWindows }) : null;
    this.lastNormEndSample = -Infinity;
  }

  stats(): Record<string, number> {
    return {
      samples: this.totalSamples,
      frames: this.nextFrame,
      speakerFrames: this.stats_.frames - this.opts.priorWeightFrames,
      windows: this.windows,
      ...this.sanitizer.stats(),
    };
  }
}
