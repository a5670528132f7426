import { AU_COLUMNS, EMOTIONS } from '../protocol/labels.js';
import type { FaceObservation, ModelStatus, VideoAnalysis, VideoAnalyzer, VideoAnalyzerStream, VideoFrameInput } from '../contracts/models.js';
import { AuEstimator } from './au-estimator.js';
import { DriverStateTracker } from './driver-state.js';
import type { AuScale } from './au-scale.js';
import type { FaceConfig } from './config.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { mapExpression } from './expression-map.js';
import type { FaceWorkerClient } from './worker-client.js';

/** A track unseen for this many analysed frames forgets its baseline (a returning face gets a new track anyway). */
const FORGET_TRACK_AFTER_FRAMES = 50;

export interface StreamStats {
  frames: number;
  framesWithFace: number;
  errors: number;
  detections: number;
  lastFaceMs: number;
  tracks: number;
}

let streamCounter = 0;

/** One session's face pipeline: its trackers live in the worker, its per-track AU estimators here. */
class FaceAnalyzerStream implements VideoAnalyzerStream {
  private readonly id = `s${++streamCounter}`;
  private readonly estimators = new Map<number, { est: AuEstimator; driver: DriverStateTracker; lastFrame: number }>();
  private frameIndex = 0;
  private closed = false;
  private readonly counters: StreamStats = { frames: 0, framesWithFace: 0, errors: 0, detections: 0, lastFaceMs: 0, tracks: 0 };

  constructor(
    private readonly client: FaceWorkerClient,
    private readonly scale: AuScale,
    private readonly config: FaceConfig,
  ) {
    client.openStreams++;
  }

  async analyze(frame: VideoFrameInput): Promise<VideoAnalysis> {
    if (this.closed) throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', 'video stream is disposed');
    this.counters.frames++;
    let result;
    try {
      result = await this.client.analyze(this.id, frame);
    } catch (err) {
      this.counters.errors++;
      throw err;
    }
    const t0 = performance.now();
    const index = ++this.frameIndex;
    const faces: FaceObservation[] = [];
    for (const face of result.faces) {
      let entry = this.estimators.get(face.trackId);
      if (!entry) {
        entry = {
          est: new AuEstimator(this.scale, {
            historyFrames: this.config.calibrationHistoryFrames,
            priorWeightFrames: this.config.calibrationPriorFrames,
            pauseConfidence: this.config.calibrationPauseConfidence,
          }),
          driver: new DriverStateTracker(),
          lastFrame: index,
        };
        this.estimators.set(face.trackId, entry);
      }
      entry.lastFrame = index;
      const expression = face.expression ? mapExpression(face.expression) : null;
      const au = entry.est.estimate(face.mesh, expression);
      if (!au) continue; // degenerate landmarks (face a few pixels wide): no AUs to report
      // Microseconds of arithmetic per face: measured on every frame so a subscriber asking later finds history.
      entry.driver.update(face.mesh, au.pose, frame.ptsUs / 1000);
      faces.push({
        trackId: face.trackId,
        box: { x: face.box.x0, y: face.box.y0, width: face.box.x1 - face.box.x0, height: face.box.y1 - face.box.y0 },
        score: face.score,
        aus: au.aus,
        expression,
        driver: entry.driver.state(),
      });
    }
    for (const [id, e] of this.estimators) if (index - e.lastFrame > FORGET_TRACK_AFTER_FRAMES) this.estimators.delete(id);
    const faceMs = result.decodeMs + result.detectMs + result.landmarksMs + (performance.now() - t0);
    if (faces.length > 0) this.counters.framesWithFace++;
    if (result.detected) this.counters.detections++;
    this.counters.lastFaceMs = faceMs;
    this.counters.tracks = this.estimators.size;
    return { faces, faceMs };
  }

  reset(): void {
    this.estimators.clear();
    this.frameIndex = 0;
    this.client.send({ type: 'reset', streamId: this.id });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.openStreams--;
    this.estimators.clear();
    this.client.send({ type: 'close', streamId: this.id });
  }

  stats(): StreamStats {
    return { ...this.counters };
  }
}

export class FaceVideoAnalyzer implements VideoAnalyzer {
  private error: string | null = null;

  constructor(
    private readonly clients: FaceWorkerClient[],
    private readonly scale: AuScale,
    private readonly config: FaceConfig,
    private readonly info: { backend: string; loadMs: number; modelDir: string },
  ) {}

  status(): ModelStatus {
    const all = this.clients.map((c) => c.stats());
    const s = { restarts: all.reduce((n, x) => n + x.restarts, 0), pending: all.reduce((n, x) => n + x.pending, 0) };
    const down = all.find((x) => !x.running && x.lastError);
    const error = this.error ?? down?.lastError ?? undefined;
    return {
      name: 'face-pipeline',
      modality: 'face',
      available: this.error === null,
      ...(error ? { error } : {}),
      provider: `tfjs-${this.info.backend} (${this.clients.length} worker thread${this.clients.length > 1 ? 's' : ''})`,
      path: this.info.modelDir,
      labels: EMOTIONS,
      details: {
        detector: 'MediaPipe BlazeFace (short range) via @vladmandic/human',
        landmarks: 'MediaPipe FaceMesh 468 points via @vladmandic/human',
        expression: this.config.expression ? 'oarriaga FER-2013 CNN via @vladmandic/human (7 classes mapped to 8, calm = 0)' : 'disabled',
        auColumns: AU_COLUMNS,
        auScale: this.scale.source,
        workers: this.clients.length,
        maxFaces: this.config.maxFaces,
        calibration: { historyFrames: this.config.calibrationHistoryFrames, priorWeightFrames: this.config.calibrationPriorFrames },
        redetectEveryFrames: this.config.redetectEveryFrames,
        maxFrameBytes: this.config.maxFrameBytes,
        maxFramePixels: this.config.maxFramePixels,
        formats: ['jpeg', 'i420', 'rgba'],
        loadMs: Math.round(this.info.loadMs),
        workerRestarts: s.restarts,
        pendingFrames: s.pending,
      },
    };
  }

  /** A stream stays on one worker (its trackers live there): the one with the fewest open streams. */
  createStream(): FaceAnalyzerStream {
    const client = this.clients.reduce((best, c) => (c.openStreams < best.openStreams ? c : best));
    return new FaceAnalyzerStream(client, this.scale, this.config);
  }

  async dispose(): Promise<void> {
    this.error = 'disposed';
    await Promise.all(this.clients.map((c) => c.dispose()));
  }
}
