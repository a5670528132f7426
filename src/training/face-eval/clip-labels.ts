import type { Emotion } from '../../protocol/labels.js';

const CREMAD: Record<string, Emotion> = { ANG: 'angry', DIS: 'disgust', FEA: 'fearful', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
const MEAD: Record<string, Emotion | null> = {
  angry: 'angry',
  contempt: null, // not one of the 8 RAVDESS labels
  disgusted: 'disgust',
  fear: 'fearful',
  happy: 'happy',
  neutral: 'neutral',
  sad: 'sad',
  surprised: 'surprised',
};

export interface ClipLabel {
  dataset: 'CREMA-D' | 'MEAD';
  speaker: string;
  /** The raw emotion name in the file name. */
  source: string;
  /** Mapped onto the 8 labels, or null when the dataset's emotion has no counterpart (MEAD contempt). */
  emotion: Emotion | null;
}

/** Labels from CREMA-D (`1001_DFA_HAP_XX.flv`) or MEAD (`W009_front_happy_level3_001.mp4`) file names; null otherwise. */
export function parseClipLabel(fileName: string): ClipLabel | null {
  const base = fileName.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
  const c = /^(\d{4})_[A-Z]{3}_([A-Z]{3})_[A-Z]{2}$/.exec(base);
  if (c && c[2] in CREMAD) return { dataset: 'CREMA-D', speaker: c[1], source: c[2], emotion: CREMAD[c[2]] };
  const m = /^([MW]\d{3})_[a-z]+_([a-z]+)_level\d+_\d+$/.exec(base);
  if (m && m[2] in MEAD) return { dataset: 'MEAD', speaker: m[1], source: m[2], emotion: MEAD[m[2]] };
  return null;
}
