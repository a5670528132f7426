import { createInProcessRunner } from '../../models/onnx-runner-inprocess.js';
import { loadSpeechModel, type SpeechWindow } from '../../models/speech/index.js';
import { isVoicedStream } from '../../models/speech/voiced-stream.js';
import { NUM_EMOTIONS } from '../../protocol/labels.js';
import { readWav } from '../../features/wav.js';
import { listSpeechClips, type SpeechClip } from '../ravdess.js';
import { addColouredNoise, opusRoundTrip } from './wave-augment.js';

/**
 * How the SHIPPED speech model degrades under the channel: RAVDESS clips streamed through the server's own path
 * (model.createStream(): front end, speaker normaliser, VAD; 3 s windows every 0.5 s; clip posterior = mean of its
 * window posteriors), clean, with pink noise at 20/10/5 dB SNR, after an Opus round trip at 16 kbit/s, and clean with
 * the VAD gate on (windows below the speech ratio get no posterior). The shipped model was trained on all 24 actors,
 * so absolute accuracies are training-set figures: only the drop relative to clean means anything.
 */
export type Condition = 'clean' | 'noise20' | 'noise10' | 'noise5' | 'opus16' | 'vad';
export const CONDITIONS: Condition[] = ['clean', 'noise20', 'noise10', 'noise5', 'opus16', 'vad'];

export interface RobustnessRow {
  condition: Condition;
  accuracy: number;
  /** Clips left with no window carrying a speech posterior (VAD gate only); counted as wrong. */
  clipsWithoutPosterior: number;
  windows: number;
  windowsGated: number;
}

function transform(x: Float32Array, c: Condition, seed: number): Float32Array {
  if (c === 'noise20') return addColouredNoise(x, 'pink', 20, seed);
  if (c === 'noise10') return addColouredNoise(x, 'pink', 10, seed);
  if (c === 'noise5') return addColouredNoise(x, 'pink', 5, seed);
  if (c === 'opus16') return opusRoundTrip(x, 16);
  return x;
}

export async function robustnessEval(opts: { clipsPerActor: number; minSpeechRatio: number; dir?: string; log?: (m: string) => void }): Promise<{ clips: number; rows: RobustnessRow[] }> {
  const model = await loadSpeechModel({ dir: opts.dir, runnerFactory: (p) => createInProcessRunner(p, { intraOpThreads: 1 }) });
  const st = model.status();
  if (!st.available) throw new Error(`speech model not available: ${st.error}`);
  try {
    const byActor = new Map<number, SpeechClip[]>();
    for (const c of listSpeechClips()) byActor.set(c.actor, [...(byActor.get(c.actor) ?? []), c]);
    const clips: SpeechClip[] = [];
    for (const list of byActor.values()) {
      const step = Math.floor(list.length / opts.clipsPerActor);
      for (let k = 0; k < opts.clipsPerActor; k++) clips.push(list[k * step + (k % step)]);
    }
    const rows: RobustnessRow[] = [];
    for (const condition of CONDITIONS) {
      let correct = 0, without = 0, windows = 0, gated = 0;
      for (const [i, clip] of clips.entries()) {
        const x = transform(readWav(clip.path).samples, condition, 9000 + i);
        // One session per actor would carry speaker statistics across clips; one per clip is the harder, simpler case.
        const stream = model.createStream();
        const ws: SpeechWindow[] = [];
        let pushed = 0;
        for (let end = Math.min(8000, x.length); ; end = Math.min(end + 8000, x.length)) {
          stream.push(x.subarray(pushed, end));
          pushed = end;
          const w = stream.window(end, Math.min(end, 48000));
          const ratio = isVoicedStream(stream) ? await stream.speechRatio(Math.max(0, end - 48000), end) : 1;
          windows++;
          if (condition === 'vad' && ratio < opts.minSpeechRatio) gated++;
          else if (w) ws.push(w);
          if (end >= x.length) break;
        }
        stream.close?.();
        if (ws.length === 0) { without++; continue; }
        const probs = await model.inferBatch(ws);
        const mean = new Float32Array(NUM_EMOTIONS);
        for (const p of probs) for (let k = 0; k < NUM_EMOTIONS; k++) mean[k] += p[k];
        let best = 0;
        for (let k = 1; k < NUM_EMOTIONS; k++) if (mean[k] > mean[best]) best = k;
        if (best === clip.emotionIndex) correct++;
      }
      const row = { condition, accuracy: correct / clips.length, clipsWithoutPosterior: without, windows, windowsGated: gated };
      opts.log?.(`${condition}: ${(100 * row.accuracy).toFixed(2)} % of ${clips.length} clips (${windows} windows, ${gated} gated, ${without} clips without a posterior)`);
      rows.push(row);
    }
    return { clips: clips.length, rows };
  } finally {
    await model.dispose();
  }
}
