/** The 8 RAVDESS emotions in dataset order (emotion code 01..08). Every posterior in emostream uses this order. */
export const EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];
export const NUM_EMOTIONS = EMOTIONS.length;

/** OpenFace 2.0 Action Unit columns, in the order clients send them in an AU frame (17 intensities then 18 presences). */
export const AU_INTENSITY_COLUMNS = [
  'AU01_r', 'AU02_r', 'AU04_r', 'AU05_r', 'AU06_r', 'AU07_r', 'AU09_r', 'AU10_r', 'AU12_r',
  'AU14_r', 'AU15_r', 'AU17_r', 'AU20_r', 'AU23_r', 'AU25_r', 'AU26_r', 'AU45_r',
] as const;
export const AU_PRESENCE_COLUMNS = [
  'AU01_c', 'AU02_c', 'AU04_c', 'AU05_c', 'AU06_c', 'AU07_c', 'AU09_c', 'AU10_c', 'AU12_c',
  'AU14_c', 'AU15_c', 'AU17_c', 'AU20_c', 'AU23_c', 'AU25_c', 'AU26_c', 'AU28_c', 'AU45_c',
] as const;
export const AU_COLUMNS = [...AU_INTENSITY_COLUMNS, ...AU_PRESENCE_COLUMNS] as const;
export const AU_VECTOR_LENGTH = AU_COLUMNS.length; // 35
