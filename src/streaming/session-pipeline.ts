import { ERROR_CATALOGUE, ProtocolError, type ErrorCode } from '../protocol/v1/errors.js';
import type { EmotionResult } from '../protocol/v1/messages.js';
import type { AuWindow, SpeechStream, VideoAnalyzerStream, VideoFrameInput } from '../models/backend.js';
import { AU_VECTOR_LENGTH } from '../protocol/labels.js';
import { AudioInput, MODEL_SAMPLE_RATE, type AudioChunk, type MonoResampler } from './audio-input.js';
import { AudioWindower } from './audio-windower.js';
import { AuWindower, type AuWindowSnapshot } from './au-windower.js';
import { DropOldestQueue } from '../models/bounded-queue.js';
import { FusionStage } from './fusion-stage.js';
import { HopScheduler, type Hop } from './hop-scheduler.js';
import { WindowDroppedError, type InferOutcome } from '../models/infer-outcome.js';
import type { PipelineModels } from './pipeline-models.js';
import type { RemoteSpeechStream } from './feature-offload.js';
import { VideoGate } from './video-gate.js';
import { VideoFaceStage } from './video-face-stage.js';
import { fuseWithVideoFace } from './video-face-fusion.js';
import { FacePresence, summariseTracks } from './face-tracks.js';
import type { FacePosteriorMode } from '../face/face-posterior.js';
import { DEFAULT_SMOOTHING, PosteriorSmoother, type PosteriorSmootherOptions } from './posterior-smoother.js';
import { isVoicedStream } from '../models/speech/voiced-stream.js';

/** models.speech.minSpeechRatio when not configured: below it a window's speech posterior is withheld. */
export const DEFAULT_MIN_SPEECH_RATIO = 0.3;

/** Where a pipeline's results and per-frame problems go (the session that owns it). */
export interface PipelineEvents {
  onResult: (result: EmotionResult) => void;
  /** A per-frame problem the client should hear about (non-fatal codes), e.g. a failing video frame. */
  onError: (err: ProtocolError) => void;
}

export interface PipelineOptions extends PipelineEvents {
  sessionId: string;
  windowMs: number;
  hopMs: number;
  /** Hops waiting for inference per session beyond the one in flight; the oldest is dropped past this. */
  maxPendingHops: number;
  /** Video frames analysed per second at most (newer frames replace a waiting one). */
  videoAnalysisFps: number;
  /** Audio chunks held while the resampler for a new format is being created. */
  maxBufferedChunks: number;
  models: PipelineModels;
  createResampler: (inputRate: number) => Promise<MonoResampler>;
  onDrop?: (count: number, reason: 'session-queue' | 'model-queue') => void;
  onVideoSkipped?: (count: number) => void;
  /**
   * Voice-activity gate: a window whose speech ratio (share of its VAD chunks with speech) is below this gets no
   * speech posterior (`speech: null`, `voice.active: false`); 0 turns the gate off (the ratio is still reported).
   */
  minSpeechRatio?: number;
  /** At `end`, how long to wait for video frames still in analysis so their AUs reach the final result (default 2000). */
  videoDrainMs?: number;
  log?: (level: 'warn' | 'error' | 'info', msg: string, extra?: Record<string, unknown>) => void;
  /** Smoothing of the fused posterior into `smoothed` (default DEFAULT_SMOOTHING). */
  smoothing?: PosteriorSmootherOptions;
  /** Video sessions: how the face posterior is made (models.video.facePosterior, default 'pool') and smoothed. */
  facePosterior?: FacePosteriorMode;
  faceSmoothing?: PosteriorSmootherOptions;
  /** Results carry each face's driver state and secondsWithoutFace (hello `driverState`; a subscriber can turn it on). */
  driverState?: boolean;
}

interface HopJob {
  hop: Hop;
  dueAt: number;
  speechWindow: unknown | null;
  /** The window still being built in a feature worker (remote speech stream), else null. */
  speechWindowP: Promise<unknown> | null;
  featureMs: number;
  /** Speech ratio of the window from an in-thread voiced stream (a feature worker attaches it to the window instead). */
  voiceP: Promise<number | null> | null;
  au: AuWindowSnapshot | null;
  lastFramePtsUs: number | null;
  /** Media items (audio chunks, AU frames) ingested when the hop was cut. */
  mediaSeq: number;
}

const round = (x: number, digits = 5): number => {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
};
const probsOut = (p: Float32Array): number[] => Array.from(p, (x) => round(x));
const ms = (x: number): number => round(x, 3);

/**
 * The catalogue code for a video analyzer failure: the analyzer's own `code` (FaceFrameError.code in src/face) when
 * the catalogue has it as a non-fatal code, else EMO_ERR_VIDEO_INTERNAL (an analyzer failure the protocol has no specific code for).
 */
/** Per-column mean of a window's AU vectors (frames x 35, row-major). */
export function meanAuVector(window: AuWindow): Float32Array {
  // Summed in float64: a float32 sum of large (finite) values overflowed to Infinity, which JSON sends as null. The
  // mean of finite float32 values is itself a finite float32.
  const sum = new Float64Array(AU_VECTOR_LENGTH);
  for (let f = 0; f < window.frames; f++) for (let k = 0; k < AU_VECTOR_LENGTH; k++) sum[k] += window.aus[f * AU_VECTOR_LENGTH + k];
  const mean = new Float32Array(AU_VECTOR_LENGTH);
  for (let k = 0; k < AU_VECTOR_LENGTH; k++) mean[k] = sum[k] / Math.max(1, window.frames);
  return mean;
}

/**
 * The final result when no media came after `previous`: same window and posteriors, the next hop index, flagged
 * with `repeatOfHop`. No frame of it is new, so it carries no lastFramePtsUs (it must not count as end-to-end latency).
 */
function repeatAsFinal(previous: EmotionResult, hop: number, droppedWindows: number): EmotionResult {
  return {
    ...previous,
    hop,
    final: true,
    lastFramePtsUs: null,
    latency: { queueMs: 0, speechMs: null, faceMs: null, fuseMs: 0, totalMs: 0 },
    droppedWindows,
    repeatOfHop: previous.hop,
  };
}

/** The speech ratio a feature worker attached to a window it built (src/streaming/feature-worker.ts), else null. */
function windowSpeechRatio(window: unknown): number | null {
  const r = (window as { speechRatio?: unknown } | null)?.speechRatio;
  return typeof r === 'number' && Number.isFinite(r) ? r : null;
}

export function videoErrorCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  // Only non-fatal codes: one bad frame must never close the session.
  if (typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code) && !ERROR_CATALOGUE[code as ErrorCode].close) return code as ErrorCode;
  return 'EMO_ERR_VIDEO_INTERNAL';
}

/**
 * One session's streaming pipeline: audio input -> audio windower (+ the speech model's per-stream state),
 * AU frames (client-sent or from video analysis) -> AU windower, the hop scheduler on one session clock, and per
 * due hop one job through the shared batched models and the fusion stage. Stages are synchronous; this class is
 * the thin async adapter around them. At most one hop is in inference per session; `maxPendingHops` wait behind
 * it and the oldest is dropped (and counted) when inference falls behind.
 */
export class SessionPipeline {
  private readonly audioInput = new AudioInput();
  private readonly audio: AudioWindower;
  private readonly aus: AuWindower;
  private readonly scheduler: HopScheduler;
  private readonly fusion: FusionStage;
  private readonly smoother: PosteriorSmoother;
  private readonly pending: DropOldestQueue<HopJob>;
  private readonly speechStream: SpeechStream<unknown> | null;
  private readonly remoteSpeech: RemoteSpeechStream | null;
  private readonly video: VideoGate | null = null;
  private readonly videoFace: VideoFaceStage;
  private videoStream: VideoAnalyzerStream | null = null;
  private resamplerReady: Promise<void> | null = null;
  private buffered: AudioChunk[] = [];
  private lastAudioPtsSeen = -Infinity;
  private declaredAudio: { sampleRate: number; channels: number } | null = null;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private droppedWindows = 0;
  private results = 0;
  private ended = false;
  private closed = false;
  private warned = new Set<string>();
  private lastVideoErrorAt = new Map<ErrorCode, number>();
  /** Counts every audio chunk and AU frame that reached the windowers, so `end` can tell whether anything new came. */
  private mediaSeq = 0;
  private lastEmitted: { result: EmotionResult; mediaSeq: number } | null = null;
  private videoIdleWaiters: (() => void)[] = [];
  private ending = false;
  private driverState: boolean;
  private readonly presence = new FacePresence();

  constructor(private readonly opts: PipelineOptions) {
    const windowUs = opts.windowMs * 1000;
    this.audio = new AudioWindower(Math.ceil((windowUs * 2 * MODEL_SAMPLE_RATE) / 1e6));
    // Keep two windows of AU frames at up to 120 fps: enough for any window, bounded whatever a client sends.
    this.aus = new AuWindower(windowUs * 2, Math.ceil((opts.windowMs / 1000) * 240));
    // Hops past what the queue holds (plus the one that can start now) would only be dropped by it: not made at all.
    this.scheduler = new HopScheduler(windowUs, opts.hopMs * 1000, opts.maxPendingHops + 1, (n) => this.countDrop(n, 'session-queue'));
    this.fusion = new FusionStage(opts.models.fusion);
    this.smoother = new PosteriorSmoother(opts.smoothing);
    this.driverState = opts.driverState ?? false;
    this.videoFace = new VideoFaceStage(opts.facePosterior ?? 'pool', opts.faceSmoothing ?? DEFAULT_SMOOTHING);
    this.pending = new DropOldestQueue<HopJob>(opts.maxPendingHops, () => this.countDrop(1, 'session-queue'));
    const speech = opts.models.speech;
    this.remoteSpeech = speech?.openRemoteStream
      ? speech.openRemoteStream((msg) => this.warnOnce('speech-remote', `speech front end (feature worker): ${msg}`))
      : null;
    this.speechStream = speech && !this.remoteSpeech ? speech.createStream() : null;
    if (opts.models.video) {
      this.videoStream = opts.models.video.createStream();
      this.video = new VideoGate(opts.videoAnalysisFps);
    }
  }

  get sessionId(): string {
    return this.opts.sessionId;
  }

  get stats(): { results: number; droppedWindows: number; pending: number; inFlight: number } {
    return { results: this.results, droppedWindows: this.droppedWindows, pending: this.pending.length, inFlight: this.inFlight };
  }

  /** Audio chunk (any rate 8-48 kHz, mono or interleaved stereo). Throws ProtocolError for bad input. */
  pushAudio(chunk: AudioChunk): void {
    this.assertOpen();
    if (this.declaredAudio && (chunk.sampleRate !== this.declaredAudio.sampleRate || chunk.channels !== this.declaredAudio.channels)) {
      throw new ProtocolError('EMO_ERR_STREAM_CHANGED', `audio changed from ${this.declaredAudio.sampleRate} Hz x${this.declaredAudio.channels} to ${chunk.sampleRate} Hz x${chunk.channels} mid-stream`);
    }
    if (chunk.ptsUs < this.lastAudioPtsSeen) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_BACKWARDS', `audio ptsUs ${chunk.ptsUs} < previous ${this.lastAudioPtsSeen}`);
    }
    for (let i = 0; i < chunk.interleaved.length; i++) {
      if (!Number.isFinite(chunk.interleaved[i])) throw new ProtocolError('EMO_ERR_NON_FINITE', `audio sample ${i} is ${chunk.interleaved[i]}`);
    }
    this.lastAudioPtsSeen = chunk.ptsUs;
    if (!this.declaredAudio) {
      this.declaredAudio = { sampleRate: chunk.sampleRate, channels: chunk.channels };
      if (chunk.sampleRate !== MODEL_SAMPLE_RATE) {
        this.resamplerReady = this.opts.createResampler(chunk.sampleRate).then((r) => {
          this.audioInput.setResampler(r);
          this.resamplerReady = null;
          const queued = this.buffered;
          this.buffered = [];
          for (const c of queued) this.ingestAudio(c);
        });
      }
    }
    if (this.resamplerReady) {
      if (this.buffered.length >= this.opts.maxBufferedChunks) {
        this.buffered.shift();
        this.warnOnce('resampler-buffer', 'audio arrived faster than the resampler could be created; oldest chunk dropped');
      }
      this.buffered.push(chunk);
      return;
    }
    this.ingestAudio(chunk);
  }

  private ingestAudio(chunk: AudioChunk): void {
    if (this.closed) return;
    const { samples16k, ptsUs } = this.audioInput.push(chunk);
    this.audio.push(samples16k, ptsUs);
    this.mediaSeq++;
    if (this.remoteSpeech) this.remoteSpeech.push(samples16k);
    else if (this.speechStream) {
      try {
        this.speechStream.push(samples16k);
      } catch (err) {
        this.warnOnce('speech-push', `speech stream rejected audio: ${String(err)}`);
      }
    }
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
    if (!this.video || !this.videoStream) {
      throw new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', 'video analysis unavailable on this server (no video analyzer loaded); send AU frames (kind 3) instead');
    }
    const lastAu = this.aus.lastPtsUs;
    if (lastAu !== null && frame.ptsUs < lastAu) {
      throw new ProtocolError('EMO_ERR_TIMESTAMP_BACKWARDS', `video ptsUs ${frame.ptsUs} < previous frame ${lastAu}`);
    }
    this.scheduler.start(frame.ptsUs);
    const skipped = this.video.offer(frame);
    if (skipped > 0) this.opts.onVideoSkipped?.(skipped);
    this.pumpVideo();
  }

  private pumpVideo(): void {
    const gate = this.video!;
    const frame = gate.next();
    if (!frame) return;
    this.videoStream!.analyze(frame).then((analysis) => {
      if (this.closed) return;
      const faces = [...analysis.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
      const largest = faces[0];
      this.presence.frame(frame.ptsUs, largest !== undefined);
      if (largest && (this.aus.lastPtsUs === null || frame.ptsUs >= this.aus.lastPtsUs)) {
        try {
          this.aus.push({ ptsUs: frame.ptsUs, aus: largest.aus, expression: largest.expression, trackIds: faces.map((f) => f.trackId), analysisMs: analysis.faceMs, faces });
          this.mediaSeq++;
        } catch (err) {
          this.warnOnce('video-aus', `video analyzer produced unusable AUs: ${String(err)}`);
        }
      }
      this.tick(frame.ptsUs);
    }, (err: unknown) => this.videoFailed(frame, err)).finally(() => {
      gate.done();
      if (!this.closed) this.pumpVideo();
      if (gate.idle) for (const w of this.videoIdleWaiters.splice(0)) w();
    });
  }

  /** Resolves once no video frame is in analysis or waiting, or after `timeoutMs` (a stuck analyzer must not hold `end`). */
  private videoIdle(timeoutMs: number): Promise<void> {
    if (!this.video || this.video.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.videoIdleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private videoFailed(frame: VideoFrameInput, err: unknown): void {
    if (this.closed) return;
    const known = videoErrorCode(err);
    // A frame the analyzer had no room for is a skipped frame (counted) and the client still hears why, throttled.
    if (known === 'EMO_ERR_VIDEO_BUSY') this.opts.onVideoSkipped?.(1);
    // A camera that sends undecodable frames at 30 fps must not flood the client: one message per code per second.
    const now = performance.now();
    if ((this.lastVideoErrorAt.get(known) ?? -Infinity) > now - 1000) return;
    this.lastVideoErrorAt.set(known, now);
    this.opts.onError(new ProtocolError(known, `video frame at ${frame.ptsUs} us: ${err instanceof Error ? err.message : String(err)}`));
  }

  /**
   * Media clock: how far the session's media has arrived. With several modalities streaming, the slowest live one
   * decides, so a window is cut only once audio and AUs both reached its end; a modality that has fallen more than
   * one hop behind the other counts as stalled and stops holding results back.
   */
  private clockUs(extra?: number): number | null {
    // Runs on every audio chunk and AU frame: two passes over the (up to) three clocks, no filter/spread/Math.max(...).
    const a = this.audio.endUs;
    const lastAu = this.aus.lastPtsUs;
    const f = lastAu === null ? null : lastAu + this.aus.frameIntervalUs;
    const x = extra === undefined ? null : extra;
    let newest = -Infinity;
    for (const c of [a, f, x]) if (c !== null && c > newest) newest = c;
    if (newest === -Infinity) return null;
    const stalledBefore = newest - this.opts.hopMs * 1000;
    let clock = Infinity;
    for (const c of [a, f, x]) if (c !== null && c >= stalledBefore && c < clock) clock = c;
    return clock;
  }

  private tick(extra?: number): void {
    if (this.ended) return;
    const clock = this.clockUs(extra);
    if (clock === null) return;
    for (const hop of this.scheduler.advance(clock)) this.enqueue(hop);
  }

  private enqueue(hop: Hop): void {
    const dueAt = performance.now();
    let speechWindow: unknown | null = null;
    let speechWindowP: Promise<unknown> | null = null;
    let featureMs = 0;
    let voiceP: Promise<number | null> | null = null;
    const origin = this.audio.originUs;
    if ((this.speechStream || this.remoteSpeech) && origin !== null && hop.endUs > origin) {
      const endSample = this.audio.usToSample(hop.endUs);
      const startSample = Math.max(0, this.audio.usToSample(hop.startUs));
      if (endSample > startSample) {
        const t0 = performance.now();
        if (this.remoteSpeech) speechWindowP = this.remoteSpeech.window(endSample, endSample - startSample);
        else {
          try {
            speechWindow = this.speechStream!.window(endSample, endSample - startSample);
          } catch (err) {
            this.warnOnce('speech-window', `speech stream failed to build a window: ${String(err)}`);
          }
          if (isVoicedStream(this.speechStream)) {
            voiceP = this.speechStream.speechRatio(startSample, endSample).catch((err: unknown) => {
              this.warnOnce('speech-vad', `voice activity detector failed: ${String(err)}`);
              return null;
            });
          }
        }
        featureMs = performance.now() - t0;
      }
    }
    const au = this.aus.window(hop.startUs, hop.endUs);
    const audioPts = this.audio.lastPtsIn(hop.startUs, hop.endUs);
    const pts = [audioPts, au?.lastPtsUs ?? null].filter((x): x is number => x !== null);
    this.pending.push({ hop, dueAt, speechWindow, speechWindowP, featureMs, voiceP, au, lastFramePtsUs: pts.length > 0 ? Math.max(...pts) : null, mediaSeq: this.mediaSeq });
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < 1 && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.inFlight++;
      this.runJob(job)
        .then((result) => {
          if (!this.closed) {
            this.results++;
            this.lastEmitted = { result, mediaSeq: job.mediaSeq };
            this.opts.onResult(result);
          }
        }, (err: unknown) => this.opts.log?.('error', 'hop failed', { err: String(err), sessionId: this.opts.sessionId }))
        .finally(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  private async settle(p: Promise<InferOutcome> | null, modality: string): Promise<InferOutcome | null> {
    if (!p) return null;
    try {
      return await p;
    } catch (err) {
      if (err instanceof WindowDroppedError) this.countDrop(1, 'model-queue');
      else this.warnOnce(`infer-${modality}`, `${modality} inference failed for a window: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  private async runJob(job: HopJob): Promise<EmotionResult> {
    const started = performance.now();
    const { models } = this.opts;
    if (job.speechWindowP) {
      // Built in a feature worker: the time until it arrived counts as feature time, as the in-thread build does.
      const t0 = performance.now();
      job.speechWindow = await job.speechWindowP;
      job.featureMs += performance.now() - t0;
    }
    const speechRatio = job.voiceP ? await job.voiceP : windowSpeechRatio(job.speechWindow);
    const voice = speechRatio === null ? null : { active: speechRatio >= (this.opts.minSpeechRatio ?? DEFAULT_MIN_SPEECH_RATIO), speechRatio: round(speechRatio, 4) };
    // Silence, noise or a tone is not an emotion: a window without enough speech gets no speech posterior.
    const speechP = job.speechWindow !== null && models.speech && voice?.active !== false ? models.speech.infer(job.speechWindow) : null;
    const faceP = job.au && models.face ? models.face.infer(job.au.window) : null;
    const [speech, face] = await Promise.all([this.settle(speechP, 'speech'), this.settle(faceP, 'face')]);
    const t0 = performance.now();
    const expression = job.au?.expression ?? null;
    const meanAus = job.au ? meanAuVector(job.au.window) : null;
    // A window of the server's own video analysis gets the transferable face posterior (docs/video.md); client AUs keep the heads.
    const videoFace = this.videoFace.posterior(job.au, face?.probs ?? null, meanAus, job.hop.endUs / 1000);
    const fused = videoFace ? fuseWithVideoFace(this.fusion, speech?.probs ?? null, videoFace.probs) : this.fusion.fuse({ speech: speech?.probs ?? null, face: face?.probs ?? null, expression });
    const fuseMs = performance.now() - t0;
    const sessionQueueMs = started - job.dueAt;
    const modelQueueMs = Math.max(speech?.queueMs ?? 0, face?.queueMs ?? 0);
    return {
      type: 'emotion',
      sessionId: this.opts.sessionId,
      hop: job.hop.index,
      windowStartUs: job.hop.startUs,
      windowEndUs: job.hop.endUs,
      lastFramePtsUs: job.lastFramePtsUs,
      final: job.hop.final,
      speech: speech ? { probs: probsOut(speech.probs) } : null,
      voice,
      face: videoFace
        ? { probs: probsOut(videoFace.probs), frames: job.au!.window.frames, label: videoFace.label, source: videoFace.source, ...(face ? { auModel: probsOut(face.probs) } : {}), smoothed: videoFace.smoothed }
        : face ? { probs: probsOut(face.probs), frames: job.au!.window.frames } : null,
      faces: job.au?.faces ?? null,
      expression: expression ? { probs: probsOut(expression) } : null,
      aus: meanAus ? { mean: probsOut(meanAus) } : null,
      fused: fused ? { probs: probsOut(fused.probs), label: fused.label, head: fused.head } : null,
      // On the window's end in session time; a window without a fused posterior leaves the smoother as it was.
      smoothed: fused ? this.smoother.update(fused.probs, job.hop.endUs / 1000) : null,
      latency: {
        queueMs: ms(sessionQueueMs + modelQueueMs),
        speechMs: speech ? ms(job.featureMs + speech.inferMs) : null,
        faceMs: face ? ms(face.inferMs) : null,
        ...(job.au?.analysisMs != null ? { analysisMs: ms(job.au.analysisMs) } : {}),
        fuseMs: ms(fuseMs),
        totalMs: ms(performance.now() - job.dueAt),
      },
      droppedWindows: this.droppedWindows,
      ...(this.video ? { faceTracks: summariseTracks(job.au?.videoFrames ?? [], this.driverState) } : {}),
      ...(this.video && this.driverState ? { secondsWithoutFace: this.presence.secondsWithoutFace() } : {}),
    };
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
    if (this.ended || this.closed) throw new ProtocolError('EMO_ERR_ENDED', 'session already ended; no more frames accepted');
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * End of stream: processes buffered audio, emits every due hop and then one final result (`final: true`) for
   * the window ending at the newest media. When nothing arrived after the last emitted result was cut (the stream
   * ended exactly on a hop boundary), the final result repeats that result unchanged, flagged with `repeatOfHop`,
   * without running the models again. Resolves when the final result has been emitted.
   */
  async end(): Promise<void> {
    if (this.ended || this.closed || this.ending) return;
    this.ending = true;
    if (this.resamplerReady) await this.resamplerReady.catch(() => undefined);
    // Frames sent just before `end` are still being analysed: their AUs belong in the last windows.
    await this.videoIdle(this.opts.videoDrainMs ?? 2000);
    if (this.closed) return;
    this.tick();
    this.ended = true;
    await this.whenIdle();
    if (this.closed) return;
    const final = this.scheduler.flush(this.clockUs());
    // The final hop bypasses the drop-oldest queue: it is the one result a client is promised after `end`.
    this.pending.clear().forEach(() => this.countDrop(1, 'session-queue'));
    const last = this.lastEmitted;
    if (last && last.mediaSeq === this.mediaSeq && final.endUs <= last.result.windowEndUs) {
      this.results++;
      this.opts.onResult(repeatAsFinal(last.result, final.index, this.droppedWindows));
      return;
    }
    this.enqueue(final);
    await this.whenIdle();
  }

  /** Drops everything (client gone, server stopping hard). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.pending.clear();
    this.buffered = [];
    this.audioInput.reset();
    this.speechStream?.reset();
    this.speechStream?.close?.();
    this.remoteSpeech?.close();
    this.videoStream?.dispose();
    this.videoStream = null;
    for (const w of this.idleWaiters.splice(0)) w();
    for (const w of this.videoIdleWaiters.splice(0)) w();
  }
}
