import { AU_INTENSITY_COLUMNS, EMOTIONS, type Emotion } from '../protocol/labels.js';

/**
 * Emotion prototypes of FACS/EMFACS (Ekman & Friesen; the combinations in Ekman, Friesen & Hager 2002, as listed in
 * issue 20): each basic emotion as the Action Units that make up its full-face prototype. Scored on OpenFace-scale
 * intensities (0-5), these rules need no training data, so they carry to people no model has seen; their weakness is
 * that geometric AUs are noisy (docs/aus.md section 7) and the rules know nothing of speech movements.
 */
export const FACS_PROTOTYPES: Readonly<Partial<Record<Emotion, readonly string[]>>> = {
  happy: ['AU06', 'AU12'],
  sad: ['AU01', 'AU04', 'AU15'],
  surprised: ['AU01', 'AU02', 'AU05', 'AU26'],
  angry: ['AU04', 'AU05', 'AU07', 'AU23'],
  disgust: ['AU09', 'AU15'],
  fearful: ['AU01', 'AU02', 'AU04', 'AU05', 'AU20', 'AU26'],
};

/**
 * Constants fixed before any evaluation (not fitted): an AU counts as fully active at intensity 1.5 (between FACS's
 * "trace" A = 1 and "slight" B = 2 on OpenFace's scale); the softmax sharpness turns the score gap of a fully
 * active prototype over none (1.0) into odds of e^5 (about 150:1).
 */
export const FACS_FULL_INTENSITY = 1.5;
export const FACS_SHARPNESS = 5;

const COLUMN = new Map(AU_INTENSITY_COLUMNS.map((c, i) => [c.replace('_r', ''), i]));
const RULES = Object.entries(FACS_PROTOTYPES).map(([emotion, aus]) => ({
  index: EMOTIONS.indexOf(emotion as Emotion),
  columns: aus.map((au) => {
    const i = COLUMN.get(au);
    if (i === undefined) throw new Error(`FACS prototype of ${emotion} names ${au}, which is not an OpenFace intensity column`);
    return i;
  }),
}));
const NEUTRAL = EMOTIONS.indexOf('neutral');
const CALM = EMOTIONS.indexOf('calm');

/**
 * Posterior over the 8 labels from AU intensities (at least the 17 intensity columns, AU_INTENSITY_COLUMNS order;
 * a 35-column AU vector works). Each emotion's score is the mean activation of its prototype's AUs (activation =
 * intensity / FACS_FULL_INTENSITY, capped at 1); neutral scores 1 minus the best emotion's score (a face with no
 * prototype active is neutral); calm, which FACS has no prototype for, gets half of neutral's score so a resting face
 * reads neutral first. Then a softmax with FACS_SHARPNESS.
 */
export function facsPosterior(aus: ArrayLike<number>): Float32Array {
  if (aus.length < AU_INTENSITY_COLUMNS.length) throw new RangeError(`facsPosterior needs ${AU_INTENSITY_COLUMNS.length} AU intensities, got ${aus.length}`);
  const score = new Float64Array(EMOTIONS.length);
  let best = 0;
  for (const r of RULES) {
    let s = 0;
    for (const c of r.columns) s += Math.min(1, Math.max(0, aus[c] / FACS_FULL_INTENSITY));
    score[r.index] = s / r.columns.length;
    best = Math.max(best, score[r.index]);
  }
  score[NEUTRAL] = 1 - best;
  score[CALM] = score[NEUTRAL] / 2;
  let max = -Infinity;
  for (const v of score) max = Math.max(max, v);
  let sum = 0;
  const out = new Float32Array(EMOTIONS.length);
  for (let i = 0; i < out.length; i++) sum += out[i] = Math.exp(FACS_SHARPNESS * (score[i] - max));
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}
