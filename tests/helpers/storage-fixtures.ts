import { EMOTIONS } from '../../src/protocol/labels.js';
import type { EmotionResult, Welcome } from '../../src/protocol/v1/messages.js';
import type { SessionRecord } from '../../src/storage/types.js';

/** A seeded pseudo-random posterior (sums to 1), so stored rows differ from one another. */
function posterior(seed: number): number[] {
  let x = (seed * 2654435761) >>> 0;
  const raw = EMOTIONS.map(() => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return 0.05 + x / 2 ** 32;
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((v) => v / sum);
}

/**
 * A result shaped like the pipeline's (src/streaming/session-pipeline.ts) for hop `hop` of a 3 s window / 500 ms hop
 * session: for storage tests that need many rows without running models. Voice drops out on every 7th hop, the face
 * on every 5th, and later-protocol fields (`smoothed`) ride along to check they are kept.
 */
export function sampleResult(sessionId: string, hop: number): EmotionResult {
  const speech = hop % 7 === 3 ? null : { probs: posterior(hop * 3 + 1) };
  const face = hop % 5 === 4 ? null : { probs: posterior(hop * 3 + 2), frames: 25 };
  const fusedProbs = posterior(hop * 3);
  const label = EMOTIONS[fusedProbs.indexOf(Math.max(...fusedProbs))];
  const endUs = 3_000_000 + hop * 500_000;
  return {
    type: 'emotion', sessionId, hop, windowStartUs: endUs - 3_000_000, windowEndUs: endUs, lastFramePtsUs: endUs - 20_000, final: false,
    speech, face, faces: null, expression: null, aus: null,
    fused: { probs: fusedProbs, label, head: 'mean:speech+face' },
    latency: { queueMs: 0.5, speechMs: speech ? 4.25 : null, faceMs: face ? 1.5 : null, fuseMs: 0.1, totalMs: 6.35 + (hop % 3) },
    droppedWindows: Math.floor(hop / 100),
    smoothed: { probs: fusedProbs, label },
  };
}

export function sampleWelcome(sessionId: string): Welcome {
  return {
    type: 'welcome', protocol: '1.0', sessionId, windowMs: 3000, hopMs: 500, labels: EMOTIONS,
    models: [{ name: 'speech-v3', modality: 'speech', available: true, provider: 'cpu' }, { name: 'face-au-v2', modality: 'face', available: true, provider: 'cpu' }],
    limits: { maxFrameBytes: 4194304, videoAnalysisFps: 10 },
  };
}

export function sampleSession(id: string, startedAtMs: number, owner = 'anonymous'): SessionRecord {
  const w = sampleWelcome(id);
  return { id, owner, startedAtMs, endedAtMs: null, endReason: null, client: 'test', transport: 'websocket', models: w.models, windowMs: 3000, hopMs: 500 };
}
