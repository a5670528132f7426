import type { SileroVad } from '../../../src/models/speech/vad.js';

/** Speech ratio of 3 s windows every 0.5 s over a signal streamed from its start (as the server asks for them). */
export async function windowRatios(vad: SileroVad, x: Float32Array): Promise<number[]> {
  const s = vad.createStream();
  const out: number[] = [];
  for (let end = 8000; end <= x.length; end += 8000) {
    s.push(x.subarray(end - 8000, end));
    out.push(await s.speechRatio(Math.max(0, end - 48000), end));
  }
  s.close();
  return out;
}
