/** Error codes of the face pipeline, in the project's EMO_ERR_* catalogue style; the server forwards them to the client. */
export type FaceErrorCode =
  | 'EMO_ERR_VIDEO_DECODE'
  | 'EMO_ERR_VIDEO_SIZE'
  | 'EMO_ERR_VIDEO_TOO_LARGE'
  | 'EMO_ERR_VIDEO_FORMAT'
  | 'EMO_ERR_VIDEO_BUSY'
  | 'EMO_ERR_VIDEO_UNAVAILABLE'
  | 'EMO_ERR_VIDEO_INTERNAL';

/** A frame the pipeline refused or could not analyse; the session goes on with the next frame. */
export class FaceFrameError extends Error {
  constructor(
    readonly code: FaceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FaceFrameError';
  }
}

export function isFaceFrameError(err: unknown): err is FaceFrameError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && (err as unknown as { code: string }).code.startsWith('EMO_ERR_VIDEO_');
}
