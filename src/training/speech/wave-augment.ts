import { colouredNoise, rmsOf, type NoiseColour } from './noise.js';
import { OpusWasmEncoder, OpusWasmDecoder } from '../../webrtc/opus-wasm.js';
import { RealFft } from '../../features/real-fft.js';

/**
 * Waveform augmentations for the channel the server really sees (issue 19), each a pure function of 16 kHz mono
 * audio and a seeded random source, each switchable in WaveAugmentConfig. Used by the functionals half of
 * `train speech --augment` (multi-corpus-data.ts); the CNN half does not use them yet.
 */
export interface WaveAugmentConfig {
  /** Additive synthetic coloured noise at an SNR drawn from snrDb. */
  noise: boolean;
  /** Additive babble (a sum of other training speakers' clips) at an SNR drawn from snrDb. */
  babble: boolean;
  snrDb: [number, number];
  gain: boolean;
  gainDb: [number, number];
  speed: boolean;
  speedFactor: [number, number];
  reverb: boolean;
  rt60S: [number, number];
  opus: boolean;
  opusKbps: [number, number];
  telephone: boolean;
}

export const DEFAULT_WAVE_AUGMENT: WaveAugmentConfig = {
  noise: true, babble: true, snrDb: [5, 20], gain: true, gainDb: [-10, 10], speed: true, speedFactor: [0.9, 1.1],
  reverb: true, rt60S: [0.2, 0.8], opus: true, opusKbps: [16, 32], telephone: true,
};

const SAMPLE_RATE = 16000;
const clamp = (x: number) => (x > 1 ? 1 : x < -1 ? -1 : x);

/** Power ratio of signal to noise in dB over the whole clip. */
export function snrDb(signal: Float32Array, noise: Float32Array): number {
  return 20 * Math.log10(rmsOf(signal) / rmsOf(noise));
}

/** signal + noise scaled so that the whole-clip SNR is `snr` dB (noise is tiled or cut to the signal's length). */
export function addAtSnr(signal: Float32Array, noise: Float32Array, snr: number): Float32Array {
  if (noise.length === 0) throw new Error('addAtSnr: empty noise');
  const tiled = Float32Array.from({ length: signal.length }, (_, i) => noise[i % noise.length]);
  const s = rmsOf(signal), n = rmsOf(tiled);
  if (s === 0 || n === 0) return Float32Array.from(signal);
  const k = s / (n * 10 ** (snr / 20));
  return signal.map((x, i) => x + k * tiled[i]);
}

export function addColouredNoise(signal: Float32Array, colour: NoiseColour, snr: number, seed: number): Float32Array {
  return addAtSnr(signal, colouredNoise(colour, signal.length, -20, seed), snr);
}

/** Babble: the sum of `others` (other speakers' clips, each scaled to the same RMS), at `snr` dB under the signal. */
export function addBabble(signal: Float32Array, others: Float32Array[], snr: number, rand: () => number): Float32Array {
  if (others.length === 0) throw new Error('addBabble: no other speakers');
  const babble = new Float32Array(signal.length);
  for (const o of others) {
    const r = rmsOf(o);
    if (r === 0) continue;
    const offset = Math.floor(rand() * o.length);
    for (let i = 0; i < babble.length; i++) babble[i] += o[(offset + i) % o.length] / r;
  }
  return addAtSnr(signal, babble, snr);
}

export function applyGain(signal: Float32Array, gainDb: number): Float32Array {
  const k = 10 ** (gainDb / 20);
  return signal.map((x) => clamp(x * k));
}

/** Speed perturbation (tempo and pitch together, as Kaldi's): resampling by linear interpolation; length / factor. */
export function changeSpeed(signal: Float32Array, factor: number): Float32Array {
  if (!(factor > 0)) throw new Error(`changeSpeed: factor ${factor}`);
  const n = Math.floor((signal.length - 1) / factor) + 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i * factor, j = Math.floor(t), f = t - j;
    out[i] = j + 1 < signal.length ? signal[j] * (1 - f) + signal[j + 1] * f : signal[j];
  }
  return out;
}

/**
 * Synthetic room impulse response: a direct path, then exponentially decaying white noise reaching -60 dB at
 * `rt60` seconds (Schroeder's diffuse-tail model), starting after a 2-10 ms pre-delay.
 */
export function syntheticRir(rt60: number, rand: () => number): Float32Array {
  const n = Math.ceil(rt60 * SAMPLE_RATE);
  const rir = new Float32Array(n);
  rir[0] = 1;
  const pre = Math.floor((0.002 + 0.008 * rand()) * SAMPLE_RATE);
  const decay = Math.log(1000) / (rt60 * SAMPLE_RATE); // amplitude 1e-3 (-60 dB) at rt60
  for (let i = pre; i < n; i++) rir[i] = 0.3 * (rand() * 2 - 1) * Math.exp(-decay * i);
  return rir;
}

/** Linear convolution by FFT (PFFFT), cut to the signal's length and rescaled to its RMS. */
export function reverberate(signal: Float32Array, rir: Float32Array): Float32Array {
  let size = 32;
  while (size < signal.length + rir.length) size *= 2;
  const fft = new RealFft(size);
  const inA = fft.input();
  inA.fill(0);
  inA.set(signal);
  const a = Float32Array.from(fft.forward());
  const inB = fft.input();
  inB.fill(0);
  inB.set(rir);
  const b = fft.forward();
  const prod = fft.input();
  // PFFFT ordered packing: [X0, X(n/2), re1, im1, ...]: DC and Nyquist real, the rest complex pairs.
  prod[0] = a[0] * b[0];
  prod[1] = a[1] * b[1];
  for (let k = 2; k < size; k += 2) {
    const re = a[k] * b[k] - a[k + 1] * b[k + 1], im = a[k] * b[k + 1] + a[k + 1] * b[k];
    prod[k] = re;
    prod[k + 1] = im;
  }
  const y = fft.inverse().slice(0, signal.length);
  const k = rmsOf(signal) / Math.max(1e-12, rmsOf(y));
  return y.map((v) => clamp(v * k));
}

const OPUS_SET_BITRATE = 4002;
/** Opus look-ahead at 16 kHz (2.5 ms frame overlap + 4 ms delay compensation): decoded audio starts this late. */
export const OPUS_DELAY_SAMPLES_16K = 104;

/** An encoder with a settable bitrate (libopus OPUS_SET_BITRATE through opusscript's encoder_ctl). */
class BitrateOpusEncoder extends OpusWasmEncoder {
  setBitrate(bps: number): void {
    const r = (this.handler as unknown as { _encoder_ctl(ctl: number, arg: number): number })._encoder_ctl(OPUS_SET_BITRATE, bps);
    if (r < 0) throw new Error(`libopus: bitrate ${bps} refused (${r})`);
  }
}

/** Opus round trip at 16 kHz (20 ms frames), the WebRTC path's codec; aligned for the codec delay, same length. */
export function opusRoundTrip(signal: Float32Array, kbps: number): Float32Array {
  const enc = new BitrateOpusEncoder(SAMPLE_RATE, 1), dec = new OpusWasmDecoder(SAMPLE_RATE, 1);
  try {
    enc.setBitrate(Math.round(kbps * 1000));
    const frame = 320;
    const total = signal.length + OPUS_DELAY_SAMPLES_16K;
    const out = new Float32Array(Math.ceil(total / frame) * frame);
    const pcm = new Int16Array(frame);
    for (let at = 0, o = 0; at < total; at += frame) {
      for (let i = 0; i < frame; i++) pcm[i] = at + i < signal.length ? Math.round(clamp(signal[at + i]) * 32767) : 0;
      const decoded = dec.decode(enc.encode(pcm, frame));
      out.set(decoded.subarray(0, Math.min(decoded.length, out.length - o)), o);
      o += decoded.length;
    }
    return out.slice(OPUS_DELAY_SAMPLES_16K, OPUS_DELAY_SAMPLES_16K + signal.length);
  } finally {
    enc.delete();
    dec.delete();
  }
}

/** Biquad (RBJ cookbook) high- or low-pass, Q = 1/sqrt(2) (Butterworth), applied in place. */
function biquad(x: Float32Array, type: 'high' | 'low', hz: number): void {
  const w = (2 * Math.PI * hz) / SAMPLE_RATE, cw = Math.cos(w), alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const b0 = type === 'low' ? (1 - cw) / 2 : (1 + cw) / 2, b1 = type === 'low' ? 1 - cw : -(1 + cw), b2 = b0;
  const a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const y = (b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1; x1 = x[i]; y2 = y1; y1 = y;
    x[i] = y;
  }
}

/** Telephone band 300-3400 Hz: two Butterworth high-pass and two low-pass sections (24 dB/octave each side). */
export function telephoneBand(signal: Float32Array): Float32Array {
  const y = Float32Array.from(signal);
  biquad(y, 'high', 300); biquad(y, 'high', 300);
  biquad(y, 'low', 3400); biquad(y, 'low', 3400);
  return y;
}

const draw = (rand: () => number, [lo, hi]: [number, number]) => lo + (hi - lo) * rand();

/**
 * One augmented copy: each enabled augmentation applied with probability `p`, additive noise/babble with `pAdditive`
 * (default `p`) (order: speed, reverb, noise/babble, band, codec, gain).
 */
export function augmentWave(signal: Float32Array, cfg: WaveAugmentConfig, rand: () => number, babbleSources: Float32Array[] = [], p = 0.5, pAdditive = p): Float32Array {
  let x = signal;
  if (cfg.speed && rand() < p) x = changeSpeed(x, draw(rand, cfg.speedFactor));
  if (cfg.reverb && rand() < p) x = reverberate(x, syntheticRir(draw(rand, cfg.rt60S), rand));
  if (cfg.noise && rand() < pAdditive) x = addColouredNoise(x, (['white', 'pink', 'brown'] as const)[Math.floor(rand() * 3)], draw(rand, cfg.snrDb), Math.floor(rand() * 2 ** 31));
  else if (cfg.babble && babbleSources.length >= 3 && rand() < pAdditive) {
    const picks = Array.from({ length: 3 }, () => babbleSources[Math.floor(rand() * babbleSources.length)]);
    x = addBabble(x, picks, draw(rand, cfg.snrDb), rand);
  }
  if (cfg.telephone && rand() < p) x = telephoneBand(x);
  if (cfg.opus && rand() < p) x = opusRoundTrip(x, draw(rand, cfg.opusKbps));
  if (cfg.gain && rand() < p) x = applyGain(x, draw(rand, cfg.gainDb));
  return x;
}
