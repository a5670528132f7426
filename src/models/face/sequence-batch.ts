import { AU_VECTOR_LENGTH } from '../../protocol/labels.js';
import { applyMinMax, type MinMaxParams } from './minmax.js';

/**
 * Packs variable-length AU sequences into one [B, T, 35] batch plus a [B, T] mask (post-padding), normalising every
 * frame. Sequences longer than `maxFrames` keep their most recent frames. Training and the server share this so the
 * sequence model sees identical inputs in both.
 */
export function padAuSequences(
  seqs: readonly { aus: Float32Array; frames: number }[],
  norm: MinMaxParams,
  maxFrames: number,
): { aus: Float32Array; mask: Float32Array; steps: number } {
  const lens = seqs.map((s) => Math.min(s.frames, maxFrames));
  const steps = Math.max(...lens);
  const aus = new Float32Array(seqs.length * steps * AU_VECTOR_LENGTH);
  const mask = new Float32Array(seqs.length * steps);
  const frame = new Float32Array(AU_VECTOR_LENGTH);
  seqs.forEach((s, b) => {
    const start = s.frames - lens[b];
    for (let f = 0; f < lens[b]; f++) {
      applyMinMax(norm, s.aus.subarray((start + f) * AU_VECTOR_LENGTH, (start + f + 1) * AU_VECTOR_LENGTH), frame);
      aus.set(frame, (b * steps + f) * AU_VECTOR_LENGTH);
      mask[b * steps + f] = 1;
    }
  });
  return { aus, mask, steps };
}
