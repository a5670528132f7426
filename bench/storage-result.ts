import { EMOTIONS } from '../src/protocol/labels.js';
import type { EmotionResult } from '../src/protocol/v1/messages.js';

/** A result like the server's for speech + AU face + fusion (posteriors vary so rows are not all alike). */
export function benchResult(sessionId: string, hop: number): EmotionResult {
  const probs = (seed: number) => {
    const raw = EMOTIONS.map((_, k) => 1 + Math.sin(seed * 12.9898 + k * 78.233) * 0.9);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / sum);
  };
  const fused = probs(hop);
  const endUs = 3_000_000 + hop * 500_000;
  return {
    type: 'emotion', sessionId, hop, windowStartUs: endUs - 3_000_000, windowEndUs: endUs, lastFramePtsUs: endUs - 20_000, final: false,
    speech: { probs: probs(hop + 0.5) }, face: { probs: probs(hop + 0.25), frames: 90 }, faces: null, expression: null, aus: null,
    fused: { probs: fused, label: EMOTIONS[fused.indexOf(Math.max(...fused))], head: 'logreg:speech+face' },
    smoothed: { probs: fused, label: EMOTIONS[fused.indexOf(Math.max(...fused))] },
    latency: { queueMs: 0.41, speechMs: 6.2, faceMs: 0.9, fuseMs: 0.05, totalMs: 7.6 }, droppedWindows: 0,
  };
}
