import { EMOTIONS } from '../protocol/labels.js';
import type { EmotionResult } from '../protocol/v1/messages.js';

/** One line per result: times in seconds, the fused label, and each modality's probabilities per emotion. */
export const CSV_HEADER = [
  'hop', 'window_start_s', 'window_end_s', 'fused_label', 'voice_present', 'face_present', 'latency_ms', 'dropped_windows',
  ...EMOTIONS.map((e) => `fused_${e}`), ...EMOTIONS.map((e) => `voice_${e}`), ...EMOTIONS.map((e) => `face_${e}`),
].join(',');

const probs = (p: { probs: number[] } | null | undefined): string[] => EMOTIONS.map((_, k) => (p ? String(p.probs[k]) : ''));

export function csvLine(r: EmotionResult): string {
  return [
    r.hop, r.windowStartUs / 1e6, r.windowEndUs / 1e6, r.fused?.label ?? '', r.speech ? 1 : 0, r.face || (r.faces?.count ?? 0) > 0 ? 1 : 0,
    r.latency.totalMs, r.droppedWindows, ...probs(r.fused), ...probs(r.speech), ...probs(r.face),
  ].join(',');
}
