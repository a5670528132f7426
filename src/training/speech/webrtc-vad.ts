import fvadModuleFactory from '@echogarden/fvad-wasm';

/**
 * WebRTC VAD (libfvad compiled to WASM, @echogarden/fvad-wasm, BSD-3-Clause), per 10 ms frame of 16 kHz audio, with
 * an optional loudness floor. Measured against Silero VAD by vad-eval.ts and NOT used by the server: it calls sine
 * tones, square waves and clipped noise speech (models/speech/vad-report.md).
 */
export interface VadConfig {
  /** WebRTC VAD aggressiveness 0-3 (3 rejects the most non-speech). */
  mode: 0 | 1 | 2 | 3;
  /** A frame whose RMS level is below this (dB relative to full scale) is not speech, whatever the detector says. */
  minLevelDbfs: number;
}

export const DEFAULT_VAD_CONFIG: VadConfig = { mode: 3, minLevelDbfs: -55 };

/** 10 ms at 16 kHz: the detector's frame and the log-mel front end's hop, so VAD and mel frames line up. */
export const VAD_FRAME_SAMPLES = 160;

interface FvadModule {
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  _fvad_set_mode(inst: number, mode: number): number;
  _fvad_set_sample_rate(inst: number, rate: number): number;
  _fvad_process(inst: number, ptr: number, length: number): number;
  _fvad_reset(inst: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAP16: Int16Array;
}

let modulePromise: Promise<FvadModule> | null = null;

/** The WASM module, instantiated once per thread (each feature worker has its own). */
export function loadVadModule(): Promise<FvadModule> {
  modulePromise ??= (fvadModuleFactory as unknown as () => Promise<FvadModule>)();
  return modulePromise;
}

/**
 * One session's voice activity: a decision per 10 ms frame (frame k = samples [160k, 160k + 160)), kept for
 * `historyFrames` frames so that any recent window's share of speech frames can be read. Bounded memory: a ring.
 */
export class VoiceActivityTracker {
  private inst: number;
  private readonly buf: number;
  private readonly decisions: Uint8Array;
  private pending = new Float32Array(VAD_FRAME_SAMPLES);
  private pendingLength = 0;
  private nextFrame = 0;
  private readonly minMeanSquare: number;
  private speechFrames = 0;

  constructor(private readonly mod: FvadModule, private readonly cfg: VadConfig, private readonly historyFrames: number) {
    this.inst = mod._fvad_new();
    if (!this.inst) throw new Error('voice activity detector: fvad_new failed (out of WASM memory)');
    if (mod._fvad_set_sample_rate(this.inst, 16000) !== 0 || mod._fvad_set_mode(this.inst, cfg.mode) !== 0) {
      throw new Error(`voice activity detector: bad settings (16 kHz, mode ${cfg.mode})`);
    }
    this.buf = mod._malloc(VAD_FRAME_SAMPLES * 2);
    this.decisions = new Uint8Array(historyFrames);
    this.minMeanSquare = 10 ** (cfg.minLevelDbfs / 10);
  }

  /** Appends sanitised 16 kHz samples in [-1, 1]. */
  push(samples: Float32Array): void {
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(VAD_FRAME_SAMPLES - this.pendingLength, samples.length - i);
      this.pending.set(samples.subarray(i, i + n), this.pendingLength);
      this.pendingLength += n;
      i += n;
      if (this.pendingLength === VAD_FRAME_SAMPLES) {
        this.decide();
        this.pendingLength = 0;
      }
    }
  }

  private decide(): void {
    // HEAP16 is re-read each frame: the WASM memory may have grown (the view would then be detached).
    const heap = this.mod.HEAP16;
    const base = this.buf >> 1;
    let sumSq = 0;
    for (let k = 0; k < VAD_FRAME_SAMPLES; k++) {
      const x = this.pending[k];
      sumSq += x * x;
      heap[base + k] = Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
    }
    const voiced = this.mod._fvad_process(this.inst, this.buf, VAD_FRAME_SAMPLES);
    const speech = voiced === 1 && sumSq / VAD_FRAME_SAMPLES >= this.minMeanSquare ? 1 : 0;
    this.decisions[this.nextFrame % this.historyFrames] = speech;
    this.speechFrames += speech;
    this.nextFrame++;
  }

  /**
   * Share of the complete 10 ms frames inside [startSample, endSample) that hold speech, over the frames still in the
   * history; 0 when none is complete (no audio yet: nothing to call speech).
   */
  speechRatio(startSample: number, endSample: number): number {
    const first = Math.max(Math.ceil(startSample / VAD_FRAME_SAMPLES), this.nextFrame - this.historyFrames, 0);
    const last = Math.min(Math.floor(endSample / VAD_FRAME_SAMPLES) - 1, this.nextFrame - 1);
    if (last < first) return 0;
    let speech = 0;
    for (let f = first; f <= last; f++) speech += this.decisions[f % this.historyFrames];
    return speech / (last - first + 1);
  }

  reset(): void {
    this.mod._fvad_reset(this.inst);
    this.mod._fvad_set_sample_rate(this.inst, 16000);
    this.mod._fvad_set_mode(this.inst, this.cfg.mode);
    this.decisions.fill(0);
    this.pendingLength = 0;
    this.nextFrame = 0;
    this.speechFrames = 0;
  }

  stats(): { vadFrames: number; vadSpeechFrames: number } {
    return { vadFrames: this.nextFrame, vadSpeechFrames: this.speechFrames };
  }

  /** Frees the detector's WASM memory; the tracker must not be used afterwards. */
  dispose(): void {
    if (!this.inst) return;
    this.mod._fvad_free(this.inst);
    this.mod._free(this.buf);
    this.inst = 0;
  }
}
