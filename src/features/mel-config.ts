/**
 * The speech front-end contract shared by training and the server: 16 kHz mono, 25 ms Hann frames every 10 ms,
 * 512-point FFT power spectrum, 40 HTK-mel bands from 20 Hz to 8 kHz, natural-log compression with a floor.
 * Frame i covers samples [i * hopSamples, i * hopSamples + frameSamples) of the stream.
 */
export interface MelConfig {
  sampleRate: number;
  frameSamples: number;
  hopSamples: number;
  fftSize: number;
  melBands: number;
  fMinHz: number;
  fMaxHz: number;
  /** Added to mel power before the log: -23 nats ~ -100 dB, so digital silence stays finite. */
  logFloor: number;
}

export const DEFAULT_MEL_CONFIG: Readonly<MelConfig> = Object.freeze({
  sampleRate: 16000,
  frameSamples: 400,
  hopSamples: 160,
  fftSize: 512,
  melBands: 40,
  fMinHz: 20,
  fMaxHz: 8000,
  logFloor: 1e-10,
});
