/** Per-face results of video sessions (protocol 1.1, additive; docs/protocol.md and docs/driver-state.md). */

export interface DriverState {
  /** Per eye, 0 (shut) to 1 (this person's open eye); subject's left/right. */
  eyeOpenness: { left: number; right: number };
  /** Eye aspect ratio per eye, as measured. */
  ear: { left: number; right: number };
  eyesClosed: boolean;
  /** Blinks that ended in the last `windowMs`, scaled to a minute (over the observed time while shorter). */
  blinksPerMinute: number;
  /** Mean duration of those blinks, ms (null without blinks). */
  meanBlinkMs: number | null;
  /** Share of the observed time in the last `windowMs` with both eyes at least 80 % closed (P80). */
  perclos: number;
  /** Milliseconds of the PERCLOS window actually observed (PERCLOS over a few seconds is noisy). */
  perclosWindowMs: number;
  yawning: boolean;
  /** Yawns (mouth wide open for >= minYawnMs) since the track began. */
  yawns: number;
  mouthAspectRatio: number;
  /**
   * Degrees, from the landmarks' head-fixed frame (docs/aus.md section 1): yaw > 0 the nose turned towards the image's
   * left (the subject's right), pitch > 0 the chin down (looking down), roll > 0 the head tilted clockwise in the image.
   */
  headPose: { yawDeg: number; pitchDeg: number; rollDeg: number };
  blinks: number;
}

/** One face of a video window as results report it (protocol 1.1 `faceTracks`). */
export interface FaceTrackResult {
  trackId: number;
  /** Sender pixels, the face's box in its last frame of the window. */
  box: { x: number; y: number; width: number; height: number };
  /** This face's posterior: the pool of its expression net and FACS rules (the AU model runs on the largest face only). */
  probs: number[];
  label: string;
  /** Frames of the window this face was in. */
  frames: number;
  /** Driver state after the face's last frame in the window (only when the session or a subscriber asked for it). */
  state?: DriverState;
}
