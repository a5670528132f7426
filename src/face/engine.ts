import type * as tfTypes from '@tensorflow/tfjs';
import type { VideoFrameInput } from '../models/backend.js';
import { type Box, boxOfPoints } from './box.js';
import type { FaceConfig } from './config.js';
import { decodeFrame } from './decode.js';
import { FaceModels, MESH_POINTS } from './face-models.js';
import { FaceTracker } from './tracker.js';

/**
 * Landmarks' bounding box -> FaceMesh crop side. BlazeFace's box enlarged 1.4x is ~1.45x the mesh's extent on
 * frontal faces (measured on CREMA-D/MEAD frames); tracking from the mesh keeps that framing.
 */
export const MESH_BOX_TO_CROP = 1.45;

export interface EngineFace {
  trackId: number;
  /** In the sender's pixels. */
  box: Box;
  score: number;
  /** 468 x 3 landmarks in the sender's pixels. */
  mesh: Float32Array;
  expression: Float32Array | null;
}

export interface EngineResult {
  faces: EngineFace[];
  detected: boolean;
  decodeMs: number;
  detectMs: number;
  landmarksMs: number;
  width: number;
  height: number;
}

/**
 * The tensor side of the face pipeline for many streams: one set of models, one tracker per stream.
 * Runs inside the face worker thread (it blocks for tens of milliseconds per frame).
 */
export class FaceEngine {
  private readonly trackers = new Map<string, FaceTracker>();
  /** Per stream: analysed frames, and each track's latest expression posterior (reused between expression passes). */
  private readonly streamState = new Map<string, { frames: number; expression: Map<number, Float32Array> }>();

  constructor(
    private readonly tf: typeof tfTypes,
    private readonly models: FaceModels,
    private readonly config: FaceConfig,
  ) {}

  private tracker(streamId: string): FaceTracker {
    let t = this.trackers.get(streamId);
    if (!t) {
      t = new FaceTracker({
        maxFaces: this.config.maxFaces,
        redetectEveryFrames: this.config.redetectEveryFrames,
        minMeshScore: this.config.minMeshScore,
        matchIou: 0.3,
        meshBoxToCrop: MESH_BOX_TO_CROP,
      });
      this.trackers.set(streamId, t);
    }
    return t;
  }

  async analyze(streamId: string, frame: VideoFrameInput): Promise<EngineResult> {
    const t0 = performance.now();
    const img = await decodeFrame(frame, this.config);
    const t1 = performance.now();
    const tracker = this.tracker(streamId);
    const detected = tracker.needsDetection();
    const detections = detected ? await this.models.detect(img, this.config.minDetectionScore, this.config.maxFaces) : null;
    const t2 = performance.now();
    const candidates = tracker.candidates(detections);
    let state = this.streamState.get(streamId);
    if (!state) {
      state = { frames: 0, expression: new Map() };
      this.streamState.set(streamId, state);
    }
    const cached = state.expression;
    const withExpression = state.frames++ % this.config.expressionEveryFrames === 0 || candidates.some((c) => c.trackId === null || !cached.has(c.trackId));
    const meshes = await this.models.landmarks(img, candidates.map((c) => c.cropBox), withExpression);
    const kept = tracker.update(
      meshes.map((m, i) => ({ candidate: candidates[i], meshScore: m.score, meshBox: boxOfPoints(m.mesh, MESH_POINTS) })),
    );
    const t3 = performance.now();
    const faces = kept.map(({ trackId, outcome }) => {
      const m = meshes[candidates.indexOf(outcome.candidate)];
      const mesh = m.mesh.map((v) => v * img.scale);
      if (m.expression) cached.set(trackId, m.expression);
      const expression = m.expression ?? cached.get(trackId) ?? null;
      const b = outcome.meshBox;
      return {
        trackId,
        box: { x0: b.x0 * img.scale, y0: b.y0 * img.scale, x1: b.x1 * img.scale, y1: b.y1 * img.scale },
        score: m.score,
        mesh,
        expression,
      };
    });
    for (const id of cached.keys()) if (!kept.some((k) => k.trackId === id)) cached.delete(id);
    return { faces, detected, decodeMs: t1 - t0, detectMs: t2 - t1, landmarksMs: t3 - t2, width: img.sourceWidth, height: img.sourceHeight };
  }

  resetStream(streamId: string): void {
    this.trackers.get(streamId)?.reset();
    this.streamState.delete(streamId);
  }

  closeStream(streamId: string): void {
    this.trackers.delete(streamId);
    this.streamState.delete(streamId);
  }

  stats(): Record<string, number> {
    return { streams: this.trackers.size, tensors: this.tf.memory().numTensors };
  }
}
