import type * as tfType from '@tensorflow/tfjs';
import { readWav } from '../../features/wav.js';
import { FeatureSpeechStream, type StreamPitchOptions } from '../../models/speech/feature-stream.js';
import { rng } from '../random.js';
import type { SpeechStreamContract } from './bundle.js';
import { createNet, type SpeechNetConfig, type WeightMap } from './net.js';
import { predictWindows } from './train.js';
import type { SpeechItem } from './dataset.js';

type Tf = typeof tfType;

export interface StreamingEvalOptions extends SpeechStreamContract {
  seed: number;
  /** Track pitch too and return each window's functionals (for the functionals model, applied by the caller). */
  pitch?: StreamPitchOptions;
}

export interface WindowPrediction {
  clipId: string; actor: number; label: number; probs: Float32Array; clipOrder: number;
  /** The stream's window functionals (only with `pitch`). */
  functionals?: Float32Array;
}

/**
 * Per-window evaluation the way the server computes it: one session per actor through FeatureSpeechStream (the
 * server's incremental features and causal running normaliser, started from the training prior), the actor's clips
 * pushed back to back in a seeded random order, one hop of audio at a time, a window requested after every hop.
 * A window is scored against the clip it lies in once it holds a full window of that clip (or, for a clip shorter than
 * a window, once at the clip's end). Several members: each window's posterior is the mean of theirs.
 */
export async function streamingWindowPredictions(
  tf: Tf, members: WeightMap[], netCfg: SpeechNetConfig, items: SpeechItem[], opts: StreamingEvalOptions,
): Promise<WindowPrediction[]> {
  if (members.length === 0) throw new Error('streamingWindowPredictions: no ensemble members');
  const nets = members.map((w) => createNet(tf, netCfg, w));
  const per = netCfg.frames * netCfg.melBands;
  const rand = rng(opts.seed);
  const out: WindowPrediction[] = [];
  try {
    const actors = [...new Set(items.map((i) => i.actor))].sort((a, b) => a - b);
    for (const actor of actors) {
      const clips = items.filter((i) => i.actor === actor);
      for (let i = clips.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [clips[i], clips[j]] = [clips[j], clips[i]]; }
      const stream = new FeatureSpeechStream({
        mel: opts.mel, windowFrames: netCfg.frames, activityGate: opts.activityGate, prior: opts.prior, priorWeightFrames: opts.priorWeightFrames,
        pitch: opts.pitch,
      });
      const pending: { features: Float32Array; functionals?: Float32Array; item: SpeechItem; order: number }[] = [];
      let sessionSamples = 0;
      clips.forEach((item, order) => {
        const samples = readWav(item.clip.path).samples;
        const clipStart = sessionSamples;
        for (let at = 0; at < samples.length; at += opts.hopSamples) {
          const chunk = samples.subarray(at, Math.min(samples.length, at + opts.hopSamples));
          stream.push(chunk);
          sessionSamples += chunk.length;
          const last = at + opts.hopSamples >= samples.length;
          const full = sessionSamples - clipStart >= opts.windowSamples;
          if (full || (last && samples.length < opts.windowSamples)) {
            const w = stream.window(sessionSamples, opts.windowSamples);
            if (w) pending.push({ features: w.features, functionals: w.functionals, item, order });
          }
        }
      });
      for (let s = 0; s < pending.length; s += 64) {
        const batch = pending.slice(s, s + 64);
        const x = new Float32Array(batch.length * per);
        batch.forEach((p, k) => x.set(p.features, k * per));
        // Ensemble posterior of a window = mean of the members' posteriors (what the exported graph computes).
        const probs = new Float32Array(batch.length * 8);
        for (const net of nets) {
          const p = await predictWindows(tf, net, x, batch.length);
          for (let i = 0; i < probs.length; i++) probs[i] += p[i] / nets.length;
        }
        batch.forEach((p, k) => out.push({
          clipId: p.item.clip.clipId, actor, label: p.item.label, clipOrder: p.order,
          probs: probs.slice(k * 8, (k + 1) * 8), ...(p.functionals ? { functionals: p.functionals } : {}),
        }));
      }
    }
    return out;
  } finally {
    for (const net of nets) for (const v of Object.values(net.vars)) v.dispose();
  }
}
