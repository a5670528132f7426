import { EMOTIONS } from '../protocol/labels.js';
import { EXPRESSION_CLASSES } from './face-models.js';

/**
 * FER-2013 classes of the npm-shipped expression net -> the 8 RAVDESS labels. The net has no 'calm': that entry
 * is 0 and the fusion learns what the other seven imply about it.
 */
const TO_EMOTION: Record<(typeof EXPRESSION_CLASSES)[number], (typeof EMOTIONS)[number]> = {
  angry: 'angry',
  disgust: 'disgust',
  fear: 'fearful',
  happy: 'happy',
  sad: 'sad',
  surprise: 'surprised',
  neutral: 'neutral',
};

export function mapExpression(probs7: Float32Array): Float32Array {
  if (probs7.length !== EXPRESSION_CLASSES.length) throw new Error(`expression posterior must have ${EXPRESSION_CLASSES.length} values, got ${probs7.length}`);
  const out = new Float32Array(EMOTIONS.length);
  let sum = 0;
  for (let i = 0; i < EXPRESSION_CLASSES.length; i++) sum += Math.max(0, probs7[i]);
  for (let i = 0; i < EXPRESSION_CLASSES.length; i++) {
    out[EMOTIONS.indexOf(TO_EMOTION[EXPRESSION_CLASSES[i]])] = sum > 0 ? Math.max(0, probs7[i]) / sum : 1 / EXPRESSION_CLASSES.length;
  }
  return out;
}
