import { EMOTIONS } from '../protocol/labels.js';
import type { EmotionResult } from '../protocol/v1/messages.js';
import type { AlertRecord, SessionRecord } from './types.js';

type Probs = Record<string, number>;

export interface SessionSummary {
  session: SessionRecord;
  results: number;
  /** From the first window's start to the last window's end (session time), seconds. */
  durationS: number;
  /** Share of results with a voice posterior / a face (posterior or a face in the video). */
  coverage: { voice: number; face: number };
  /** Mean posterior per modality over the results that had it (null when none did). */
  meanPosteriors: { voice: Probs | null; face: Probs | null; fused: Probs | null };
  /** Share of results per fused label. */
  labelShares: Probs;
  /** Per minute of session time: the most frequent fused label and its share of that minute's results. */
  dominantPerMinute: { minute: number; label: string | null; share: number; results: number }[];
  /** Windows dropped because inference fell behind (the last result's count). */
  droppedWindows: number;
  latencyMs: { mean: number | null; max: number | null };
  alerts: AlertRecord[];
}

class MeanProbs {
  private readonly sum = new Float64Array(EMOTIONS.length);
  private n = 0;
  add(p: readonly number[] | undefined): void {
    if (!p) return;
    for (let k = 0; k < EMOTIONS.length; k++) this.sum[k] += p[k] ?? 0;
    this.n++;
  }
  value(): Probs | null {
    if (this.n === 0) return null;
    return Object.fromEntries(EMOTIONS.map((e, k) => [e, round(this.sum[k] / this.n)]));
  }
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Builds a summary from results fed in hop order (page by page, so a long session is never held whole). */
export class SummaryBuilder {
  private n = 0;
  private voice = 0;
  private face = 0;
  private firstStartUs: number | null = null;
  private lastEndUs = 0;
  private dropped = 0;
  private latencySum = 0;
  private latencyMax: number | null = null;
  private readonly means = { voice: new MeanProbs(), face: new MeanProbs(), fused: new MeanProbs() };
  private readonly labels = new Map<string, number>();
  private readonly minutes = new Map<number, Map<string | null, number>>();

  add(r: EmotionResult): void {
    this.n++;
    if (r.speech) this.voice++;
    if (r.face || (r.faces?.count ?? 0) > 0) this.face++;
    this.firstStartUs ??= r.windowStartUs;
    this.lastEndUs = Math.max(this.lastEndUs, r.windowEndUs);
    this.dropped = r.droppedWindows;
    this.latencySum += r.latency.totalMs;
    this.latencyMax = Math.max(this.latencyMax ?? 0, r.latency.totalMs);
    this.means.voice.add(r.speech?.probs);
    this.means.face.add(r.face?.probs);
    this.means.fused.add(r.fused?.probs);
    const label = r.fused?.label ?? null;
    if (label) this.labels.set(label, (this.labels.get(label) ?? 0) + 1);
    const minute = Math.floor(r.windowEndUs / 60e6);
    let m = this.minutes.get(minute);
    if (!m) this.minutes.set(minute, (m = new Map()));
    m.set(label, (m.get(label) ?? 0) + 1);
  }

  build(session: SessionRecord, alerts: AlertRecord[]): SessionSummary {
    const share = (k: number) => (this.n ? round(k / this.n) : 0);
    return {
      session,
      results: this.n,
      durationS: this.firstStartUs === null ? 0 : round((this.lastEndUs - this.firstStartUs) / 1e6, 3),
      coverage: { voice: share(this.voice), face: share(this.face) },
      meanPosteriors: { voice: this.means.voice.value(), face: this.means.face.value(), fused: this.means.fused.value() },
      labelShares: Object.fromEntries([...this.labels].sort((a, b) => b[1] - a[1]).map(([l, k]) => [l, share(k)])),
      dominantPerMinute: [...this.minutes].sort((a, b) => a[0] - b[0]).map(([minute, counts]) => {
        let best: [string | null, number] = [null, 0];
        let total = 0;
        for (const [l, k] of counts) {
          total += k;
          // A labelled window wins over an unlabelled one of the same count.
          if (k > best[1] || (k === best[1] && best[0] === null)) best = [l, k];
        }
        return { minute, label: best[0], share: round(best[1] / total), results: total };
      }),
      droppedWindows: this.dropped,
      latencyMs: { mean: this.n ? round(this.latencySum / this.n, 2) : null, max: this.latencyMax },
      alerts,
    };
  }
}
