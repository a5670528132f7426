import { colouredNoise } from './noise.js';

/** A labelled synthetic signal with no speech in it, for checking that the voice-activity gate rejects it. */
export interface NonSpeechSignal {
  name: string;
  samples: Float32Array;
}

const sine = (hz: number, amplitude: number, n: number, rate = 16000): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

const clip = (x: Float32Array): Float32Array => x.map((v) => Math.max(-1, Math.min(1, v)));

/**
 * The non-speech windows the issue names (digital silence, faint noise, DC offset, clipping, sine tones) plus a few
 * more of each kind; `seconds` of 16 kHz audio each, deterministic.
 */
export function nonSpeechSignals(seconds = 4): NonSpeechSignal[] {
  const n = Math.round(seconds * 16000);
  const out: NonSpeechSignal[] = [{ name: 'digital silence', samples: new Float32Array(n) }];
  let seed = 101;
  for (const colour of ['white', 'pink', 'brown'] as const) {
    for (const db of [-70, -60, -50, -40]) out.push({ name: `${colour} noise ${db} dBFS`, samples: colouredNoise(colour, n, db, seed++) });
  }
  for (const dc of [0.05, 0.3, -0.5]) {
    out.push({ name: `DC offset ${dc}`, samples: new Float32Array(n).fill(dc) });
    out.push({ name: `DC offset ${dc} + white noise -60 dBFS`, samples: colouredNoise('white', n, -60, seed++).map((v) => v + dc) });
  }
  out.push({ name: 'clipping: stuck at +1', samples: new Float32Array(n).fill(1) });
  out.push({ name: 'clipping: 150 Hz sine x20, clipped (square wave)', samples: clip(sine(150, 20, n)) });
  out.push({ name: 'clipping: white noise -10 dBFS x10, clipped', samples: clip(colouredNoise('white', n, -10, seed).map((v) => v * 10)) });
  for (const hz of [50, 100, 220, 440, 1000, 3000]) out.push({ name: `sine ${hz} Hz -12 dBFS`, samples: sine(hz, 0.35, n) });
  return out;
}
