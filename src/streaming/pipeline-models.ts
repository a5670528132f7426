import type { AuWindow, Fusion, SpeechStream, VideoAnalyzer, InferOutcome } from '../contracts/models.js';

/** A speech stream that also tracks voice activity (the model's stream when it has a VAD, src/models/speech/voiced-stream.ts). */
export interface VoicedSpeechStream extends SpeechStream<unknown> {
  /** Share of the window [startSample, endSample) that the VAD calls speech. */
  speechRatio(startSample: number, endSample: number): Promise<number>;
}

/**
 * One window's trip through a model: its outcome, or null when the model's queue dropped it because inference fell
 * behind real time (counted as a `model-queue` drop); rejects when the model failed on it.
 */
export type InferWindow<W> = (window: W) => Promise<InferOutcome | null>;

/**
 * The models as a session pipeline sees them: already behind their batchers, shared by all sessions. A null entry
 * is a modality whose model is unavailable; its posterior is null in every result. The server builds them
 * (src/server/compose-models.ts); this is all the pipeline knows of src/models.
 */
export interface PipelineModels {
  speech: {
    name: string;
    createStream(): SpeechStream<unknown> | VoicedSpeechStream;
    /**
     * Present when the server runs speech front ends in feature workers (streaming.featureWorkers > 0): the same
     * stream, off the event loop, with windows delivered asynchronously. Pipelines prefer it over createStream.
     */
    openRemoteStream?(onError: (msg: string) => void): RemoteSpeechStream;
    infer: InferWindow<unknown>;
  } | null;
  face: { name: string; infer: InferWindow<AuWindow> } | null;
  fusion: Fusion | null;
  video: VideoAnalyzer | null;
}

export interface RemoteSpeechStream {
  push(samples16k: Float32Array): void;
  window(endSample: number, windowSamples: number): Promise<unknown>;
  close(): void;
}
