import { ProtocolError } from '../protocol/v1/errors.js';
import type { EmotionResult } from '../protocol/v1/messages.js';
import type { FaceObservation, VideoFrameInput, InferOutcome } from '../contracts/models.js';
import { MODEL_SAMPLE_RATE, type AudioChunk } from './audio-input.js';
import { AudioIntake } from './audio-intake.js';
import { AudioWindower } from './audio-windower.js';
import { AuWindower, type AuWindowSnapshot } from './au-windower.js';
import { FusionStage } from './fusion-stage.js';
import { HopQueue } from './hop-queue.js';
import { assembleResult, repeatAsFinal, round } from './hop-result.js';
import { HopScheduler, mediaClockUs, type Hop } from './hop-scheduler.js';
import { DEFAULT_MIN_SPEECH_RATIO, type PipelineOptions } from './pipeline-options.js';
import { DEFAULT_SMOOTHING, PosteriorSmoother } from './posterior-smoother.js';
import { openSpeechFrontEnd, type PendingSpeechCut, type SpeechFrontEnd } from './speech-front-end.js';
import { VideoFaceStage } from './video-face-stage.js';
import { VideoPath } from './video-path.js';

interface HopJob {
  hop: Hop;
  dueAt: number;
  speech: PendingSpeechCut | null;
  au: AuWindowSnapshot | null;
  lastFramePtsUs: number | null;
  /** Media items (audio chunks, AU frames) ingested when the hop was cut. */
  mediaSeq: number;
}

/**
 * The pipeline's one lifecycle: `open` takes frames; `draining` (after `end`) takes none but still cuts hops while
 * audio waiting for the resampler and video frames in analysis arrive; `flushing` cuts nothing more and runs the
 * final hop; `closed` drops everything.
 */
type Phase = 'open' | 'draining' | 'flushing' | 'closed';

/**
 * One session's streaming pipeline, a thin adapter over pure stages: audio (AudioIntake -> AudioWindower + the
 * speech front end), AU frames (client-sent or from video analysis) -> AuWindower, the HopScheduler on one session
 * clock, and per due hop one job through the shared batched models (HopQueue: one in flight, `maxPendingHops`
 * waiting, drop-oldest) and assembleResult. Frames arrive validated by the protocol layer (src/protocol/v1/frames.ts).
 */
export class SessionPipeline {
  private phase: Phase = 'open';
  private readonly audioIntake: AudioIntake;
  private readonly audio: AudioWindower;
  private readonly aus: AuWindower;
  private readonly scheduler: HopScheduler;
  private readonly hops: HopQueue<HopJob>;
  private readonly speech: SpeechFrontEnd | null;
  private readonly video: VideoPath | null;
  private readonly fusion: FusionStage;
  private readonly smoother: PosteriorSmoother;
  private readonly videoFace: VideoFaceStage;
  private driverState: boolean;
  private droppedWindows = 0;
  private results = 0;
  private readonly warned = new Set<string>();
  /** Counts every audio chunk and AU frame that reached the windowers, so `end` can tell whether anything new came. */
  private mediaSeq = 0;
  private lastEmitted: { result: EmotionResult; mediaSeq: number } | null = null;

  constructor(private readonly opts: PipelineOptions) {
    const windowUs = opts.windowMs * 1000;
    this.audio = new AudioWindower(Math.ceil((windowUs * 2 * MODEL_SAMPLE_RATE) / 1e6));
    // Keep two windows of AU frames at up to 120 fps: enough for any window, bounded whatever a client sends.
    this.aus = new AuWindower(windowUs * 2, Math.ceil((opts.windowMs / 1000) * 240));
    // Hops past what the queue holds (plus the one that can start now) would only be dropped by it: not made at all.
    this.scheduler = new HopScheduler(windowUs, opts.hopMs * 1000, opts.maxPendingHops + 1, (n) => this.countDrop(n, 'session-queue'));
    this.hops = new HopQueue<HopJob>(opts.maxPendingHops, (job) => this.runHop(job), () => this.countDrop(1, 'session-queue'));
    this.audioIntake = new AudioIntake(opts.createResampler, opts.maxBufferedChunks, ({ samples16k, ptsUs }) => this.ingestAudio(samples16k, ptsUs),
      () => this.warnOnce('resampler-buffer', 'audio arrived faster than the resampler could be created; oldest chunk dropped'));
    this.speech = openSpeechFrontEnd(opts.models.speech, (key, msg) => this.warnOnce(key, msg));
    this.video = opts.models.video ? new VideoPath(opts.models.video, opts.videoAnalysisFps, {
      onFaces: (ptsUs, faces, faceMs) => this.videoAnalysed(ptsUs, faces, faceMs),
      onSkipped: opts.onVideoSkipped,
      onError: opts.onError,
    }) : null;
    this.fusion = new FusionStage(opts.models.fusion);
    this.smoother = new PosteriorSmoother(opts.smoothing);
    this.videoFace = new VideoFaceStage(opts.facePosterior ?? 'pool', opts.faceSmoothing ?? DEFAULT_SMOOTHING);
    this.driverState = opts.driverState ?? false;
  }

  /** Closed while awaiting (a phase the compiler cannot follow across an await). */
  private get closed(): boolean {
    return this.phase === 'closed';
  }

  get sessionId(): string {
    return this.opts.sessionId;
  }

  get stats(): { results: number; droppedWindows: number; pending: number; inFlight: number } {
    return { results: this.results, droppedWindows: this.droppedWindows, pending: this.hops.length, inFlight: this.hops.inFlight };
  }

  /** Audio chunk (any rate 8-48 kHz, mono or interleaved stereo). Throws ProtocolError for a chunk that does not fit the stream. */
  pushAudio(chunk: AudioChunk): void {
    this.assertOpen();
    this.audioIntake.push(chunk);
  }

  private ingestAudio(samples16k: Float32Array, ptsUs: number): void {
    this.audio.push(samples16k, ptsUs);
    this.mediaSeq++;
    this.speech?.push(samples16k);
    this.scheduler.start(this.audio.originUs!);
    this.tick();
  }

  /** One AU vector (35 OpenFace columns) at client time ptsUs. */
  pushAu(ptsUs: number, aus: Float32Array): void {
    this.assertOpen();
    this.aus.push({ ptsUs, aus, expression: null, trackIds: null, analysisMs: null });
    this.mediaSeq++;
    this.scheduler.start(ptsUs);
    this.tick();
  }

  /** A video frame for the session's analyzer; throws VIDEO_UNAVAILABLE when the server has none. */
  pushVideo(frame: VideoFrameInput): void {
    this.assertOpen();
    if (!this.video) {
      throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', 'video analysis unavailable on this server (no video analyzer loaded); send AU frames (kind 3) instead');
    }
    const lastAu = this.aus.lastPtsUs;
    if (lastAu !== null && frame.ptsUs < lastAu) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_BACKWARDS', `video ptsUs ${frame.ptsUs} < previous frame ${lastAu}`);
    }
    this.scheduler.start(frame.ptsUs);
    this.video.offer(frame);
  }

  /** The largest face's AUs of an analysed frame join the client's AU stream; the frame's time moves the clock. */
  private videoAnalysed(ptsUs: number, faces: FaceObservation[], faceMs: number): void {
    const largest = faces[0];
    if (largest && (this.aus.lastPtsUs === null || ptsUs >= this.aus.lastPtsUs)) {
      try {
        this.aus.push({ ptsUs, aus: largest.aus, expression: largest.expression, trackIds: faces.map((f) => f.trackId), analysisMs: faceMs, faces });
        this.mediaSeq++;
      } catch (err) {
        this.warnOnce('video-aus', `video analyzer produced unusable AUs: ${String(err)}`);
      }
    }
    this.tick(ptsUs);
  }

  private clockUs(videoPtsUs?: number): number | null {
    const lastAu = this.aus.lastPtsUs;
    return mediaClockUs([this.audio.endUs, lastAu === null ? null : lastAu + this.aus.frameIntervalUs, videoPtsUs ?? null], this.opts.hopMs * 1000);
  }

  private tick(videoPtsUs?: number): void {
    if (this.phase === 'flushing' || this.phase === 'closed') return;
    const clock = this.clockUs(videoPtsUs);
    if (clock === null) return;
    for (const hop of this.scheduler.advance(clock)) this.cutHop(hop);
  }

  private cutHop(hop: Hop): void {
    const dueAt = performance.now();
    let speech: PendingSpeechCut | null = null;
    const origin = this.audio.originUs;
    if (this.speech && origin !== null && hop.endUs > origin) {
      const endSample = this.audio.usToSample(hop.endUs);
      const startSample = Math.max(0, this.audio.usToSample(hop.startUs));
      if (endSample > startSample) speech = this.speech.cut(startSample, endSample);
    }
    const au = this.aus.window(hop.startUs, hop.endUs);
    const pts = [this.audio.lastPtsIn(hop.startUs, hop.endUs), au?.lastPtsUs ?? null].filter((x): x is number => x !== null);
    this.hops.push({ hop, dueAt, speech, au, lastFramePtsUs: pts.length > 0 ? Math.max(...pts) : null, mediaSeq: this.mediaSeq });
  }

  private async runHop(job: HopJob): Promise<void> {
    try {
      const result = await this.inferHop(job);
      if (this.closed) return;
      this.results++;
      this.lastEmitted = { result, mediaSeq: job.mediaSeq };
      this.opts.onResult(result);
    } catch (err) {
      this.opts.log?.('error', 'hop failed', { err: String(err), sessionId: this.opts.sessionId });
    }
  }

  private async inferHop(job: HopJob): Promise<EmotionResult> {
    const startedAt = performance.now();
    const { models } = this.opts;
    const cut = job.speech ? await job.speech.settle() : { window: null, speechRatio: null, featureMs: 0 };
    const { speechRatio } = cut;
    const voice = speechRatio === null ? null : { active: speechRatio >= (this.opts.minSpeechRatio ?? DEFAULT_MIN_SPEECH_RATIO), speechRatio: round(speechRatio, 4) };
    // Silence, noise or a tone is not an emotion: a window without enough speech gets no speech posterior.
    const speechP = cut.window !== null && models.speech && voice?.active !== false ? models.speech.infer(cut.window) : null;
    const faceP = job.au && models.face ? models.face.infer(job.au.window) : null;
    const [speech, face] = await Promise.all([this.settle(speechP, 'speech'), this.settle(faceP, 'face')]);
    const video = this.video;
    return assembleResult(
      { sessionId: this.opts.sessionId, hop: job.hop, lastFramePtsUs: job.lastFramePtsUs, dueAt: job.dueAt, startedAt, speech, featureMs: cut.featureMs, voice, face, au: job.au, droppedWindows: this.droppedWindows },
      { fusion: this.fusion, videoFace: this.videoFace, smoother: this.smoother, video: video ? { driverState: this.driverState, secondsWithoutFace: () => video.presence.secondsWithoutFace() } : null },
    );
  }

  private async settle(p: Promise<InferOutcome | null> | null, modality: string): Promise<InferOutcome | null> {
    if (!p) return null;
    try {
      const outcome = await p;
      if (outcome === null) this.countDrop(1, 'model-queue');
      return outcome;
    } catch (err) {
      this.warnOnce(`infer-${modality}`, `${modality} inference failed for a window: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  /** From now on results carry driver state (a subscriber asked for it). */
  requestDriverState(): void {
    this.driverState = true;
  }

  private countDrop(n: number, reason: 'session-queue' | 'model-queue'): void {
    this.droppedWindows += n;
    this.opts.onDrop?.(n, reason);
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.log?.('warn', msg, { sessionId: this.opts.sessionId });
  }

  private assertOpen(): void {
    if (this.phase !== 'open') throw new ProtocolError('EMO_ERR_ENDED', 'session already ended; no more frames accepted');
  }

  /**
   * End of stream: processes buffered audio, emits every due hop and then one final result (`final: true`) for
   * the window ending at the newest media. When nothing arrived after the last emitted result was cut (the stream
   * ended exactly on a hop boundary), the final result repeats that result unchanged, flagged with `repeatOfHop`,
   * without running the models again. Resolves when the final result has been emitted.
   */
  async end(): Promise<void> {
    if (this.phase !== 'open') return;
    this.phase = 'draining';
    await this.audioIntake.drained();
    // Frames sent just before `end` are still being analysed: their AUs belong in the last windows.
    await this.video?.idle(this.opts.videoDrainMs ?? 2000);
    if (this.closed) return;
    this.tick();
    this.phase = 'flushing';
    await this.hops.whenIdle();
    if (this.closed) return;
    const final = this.scheduler.flush(this.clockUs());
    // The final hop bypasses the drop-oldest queue: it is the one result a client is promised after `end`.
    this.hops.clear().forEach(() => this.countDrop(1, 'session-queue'));
    const last = this.lastEmitted;
    if (last && last.mediaSeq === this.mediaSeq && final.endUs <= last.result.windowEndUs) {
      this.results++;
      this.opts.onResult(repeatAsFinal(last.result, final.index, this.droppedWindows));
      return;
    }
    this.cutHop(final);
    await this.hops.whenIdle();
  }

  /** Drops everything (client gone, server stopping hard). */
  close(): void {
    if (this.closed) return;
    this.phase = 'closed';
    this.hops.close();
    this.audioIntake.close();
    this.speech?.close();
    this.video?.close();
  }
}
