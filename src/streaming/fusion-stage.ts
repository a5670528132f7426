import { EMOTIONS } from '../protocol/labels.js';
import type { Fusion, FusionInputs } from '../contracts/models.js';

export interface FusedPosterior {
  probs: Float32Array;
  label: string;
  /** Which rule produced it: the fusion model's head, or the documented fallback when it is unavailable. */
  head: string;
}

export function argmaxIndex(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/**
 * Late fusion of whatever posteriors a window has. With the trained fusion model available, its head for the
 * present subset decides. Without it (not trained yet, failed to load, or it threw), the fallback is explicit and
 * named in `head`: a single modality passes through, several are averaged.
 */
export class FusionStage {
  private fallbacks = 0;
  private failures = 0;
  private calls = 0;

  constructor(private readonly fusion: Fusion | null) {}

  fuse(inputs: FusionInputs): FusedPosterior | null {
    const present = (['speech', 'face', 'expression'] as const).filter((k) => inputs[k]);
    if (present.length === 0) return null;
    this.calls++;
    if (this.fusion && this.fusion.status().available) {
      try {
        const { probs, head } = this.fusion.fuse(inputs);
        if (probs.length === EMOTIONS.length && probs.every(Number.isFinite)) {
          return { probs, head, label: EMOTIONS[argmaxIndex(probs)] };
        }
        this.failures++;
      } catch {
        this.failures++;
      }
    }
    this.fallbacks++;
    const probs = new Float32Array(EMOTIONS.length);
    for (const k of present) for (let i = 0; i < probs.length; i++) probs[i] += inputs[k]![i] / present.length;
    const head = present.length === 1 ? `passthrough:${present[0]}` : `mean:${present.join('+')}`;
    return { probs, head, label: EMOTIONS[argmaxIndex(probs)] };
  }

  stats(): Record<string, number> {
    return { calls: this.calls, fallbacks: this.fallbacks, failures: this.failures };
  }
}
