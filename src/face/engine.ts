import type * as tfTypes from '@tensorflow/tfjs';
import type { VideoFrameInput } from '../contracts/models.js';
import { type Box, boxOfPoints } from './box.js';
import type { FaceConfig } from './config.js';
import { decodeFrame, type RgbImage } from './decode.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { FaceModels, MESH_POINTS, type MeshResult } from './face-models.js';
import { type Candidate, FaceTracker } from './tracker.js';

const asError = (e: unknown): Error => (e instanceof Error ? e : new ProtocolError('EMO_ERR_VIDEO_INTERNAL', String(e)));

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
  /** Frames (of different sessions) analysed in the same batched pass as this one. */
  batchFrames: number;
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
        idleDetectEveryFrames: this.config.idleDetectEveryFrames,
        minMeshScore: this.config.minMeshScore,
        matchIou: 0.3,
        meshBoxToCrop: MESH_BOX_TO_CROP,
      });
      this.trackers.set(streamId, t);
    }
    return t;
  }

  async analyze(streamId: string, frame: VideoFrameInput): Promise<EngineResult> {
    const [r] = await this.analyzeBatch([{ streamId, frame }]);
    if (r instanceof Error) throw r;
    return r;
  }

  /**
   * Frames of different streams analysed together: decoded in parallel (libvips threads), the detector where a
   * stream needs it, then FaceMesh and the expression net in one batched call over all their crops. Each frame gets
   * its own result or its own error. A stream must appear at most once per batch (its tracker runs frame by frame).
   */
  async analyzeBatch(items: { streamId: string; frame: VideoFrameInput }[]): Promise<(EngineResult | Error)[]> {
    if (new Set(items.map((i) => i.streamId)).size !== items.length) throw new Error('analyzeBatch: one frame per stream per batch');
    const t0 = performance.now();
    const decoded = await Promise.allSettled(items.map((it) => decodeFrame(it.frame, this.config)));
    const decodeMs = performance.now() - t0;
    const out: (EngineResult | Error)[] = decoded.map((d) => (d.status === 'rejected' ? asError(d.reason) : new Error('not analysed')));
    const work: {
      index: number;
      img: RgbImage;
      tracker: FaceTracker;
      cached: Map<number, Float32Array>;
      candidates: Candidate[];
      detected: boolean;
      detectMs: number;
      withExpression: boolean;
    }[] = [];
    for (const [index, d] of decoded.entries()) {
      if (d.status !== 'fulfilled') continue;
      const { streamId } = items[index];
      const tracker = this.tracker(streamId);
      let state = this.streamState.get(streamId);
      if (!state) {
        state = { frames: 0, expression: new Map() };
        this.streamState.set(streamId, state);
      }
      const detected = tracker.needsDetection();
      const td = performance.now();
      let detections;
      try {
        detections = detected ? await this.models.detect(d.value, this.config.minDetectionScore, this.config.maxFaces) : null;
      } catch (err) {
        out[index] = asError(err);
        continue;
      }
      const detectMs = performance.now() - td;
      const candidates = tracker.candidates(detections);
      const cached = state.expression;
      const withExpression = state.frames++ % this.config.expressionEveryFrames === 0 || candidates.some((c) => c.trackId === null || !cached.has(c.trackId));
      work.push({ index, img: d.value, tracker, cached, candidates, detected, detectMs, withExpression });
    }
    const tm = performance.now();
    let meshes: MeshResult[][];
    try {
      meshes = await this.models.landmarksMany(work.map((w) => ({ img: w.img, boxes: w.candidates.map((c) => c.cropBox), withExpression: w.withExpression })));
    } catch (err) {
      for (const w of work) out[w.index] = asError(err);
      return out;
    }
    const landmarksMs = performance.now() - tm;
    work.forEach((w, k) => {
      const m = meshes[k];
      const kept = w.tracker.update(m.map((r, i) => ({ candidate: w.candidates[i], meshScore: r.score, meshBox: boxOfPoints(r.mesh, MESH_POINTS) })));
      const scale = w.img.scale;
      const faces = kept.map(({ trackId, outcome }) => {
        const r = m[w.candidates.indexOf(outcome.candidate)];
        if (r.expression) w.cached.set(trackId, r.expression);
        const b = outcome.meshBox;
        return {
          trackId,
          box: { x0: b.x0 * scale, y0: b.y0 * scale, x1: b.x1 * scale, y1: b.y1 * scale },
          score: r.score,
          mesh: r.mesh.map((v) => v * scale),
          expression: r.expression ?? w.cached.get(trackId) ?? null,
        };
      });
      for (const id of w.cached.keys()) if (!kept.some((x) => x.trackId === id)) w.cached.delete(id);
      out[w.index] = {
        faces,
        detected: w.detected,
        decodeMs,
        detectMs: w.detectMs,
        landmarksMs,
        batchFrames: items.length,
        width: w.img.sourceWidth,
        height: w.img.sourceHeight,
      };
    });
    return out;
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
