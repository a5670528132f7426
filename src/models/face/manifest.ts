import { AU_COLUMNS, EMOTIONS } from '../../protocol/labels.js';

export const FACE_MANIFEST_FORMAT = 'emostream-face-model/1';

/** `models/face/model.json`: which ONNX files the face model runs and how to feed them. */
export interface FaceManifest {
  format: typeof FACE_MANIFEST_FORMAT;
  labels: string[];
  auColumns: string[];
  /** Static model on the window's mean AU vector (always present). */
  static: { onnx: string; normaliser: string; input: string; output: string; spec: string };
  /** Sequential bi-LSTM over the window's frames; null until trained on per-frame AU data. */
  sequence: { onnx: string; normaliser: string; input: string; mask: string; output: string; maxFrames: number } | null;
}

/** Validates a parsed manifest; every error names the file and the field. */
export function validateFaceManifest(raw: unknown, path: string): FaceManifest {
  const m = raw as Partial<FaceManifest> | null;
  if (!m || m.format !== FACE_MANIFEST_FORMAT) throw new Error(`${path}: format must be '${FACE_MANIFEST_FORMAT}'`);
  if (!Array.isArray(m.labels) || m.labels.join(',') !== EMOTIONS.join(',')) throw new Error(`${path}: labels must be ${EMOTIONS.join(',')} in that order`);
  if (!Array.isArray(m.auColumns) || m.auColumns.join(',') !== AU_COLUMNS.join(',')) throw new Error(`${path}: auColumns must be the 35 OpenFace columns in AU_COLUMNS order`);
  const s = m.static;
  if (!s || [s.onnx, s.normaliser, s.input, s.output].some((v) => typeof v !== 'string')) throw new Error(`${path}: static needs onnx, normaliser, input, output`);
  const q = m.sequence;
  if (q !== null && q !== undefined) {
    if ([q.onnx, q.normaliser, q.input, q.mask, q.output].some((v) => typeof v !== 'string') || !Number.isInteger(q.maxFrames) || q.maxFrames <= 0) {
      throw new Error(`${path}: sequence needs onnx, normaliser, input, mask, output, maxFrames`);
    }
  }
  return { ...(m as FaceManifest), sequence: q ?? null };
}
