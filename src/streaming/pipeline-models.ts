import type { AuWindow, Fusion, SpeechStream, VideoAnalyzer } from '../models/backend.js';
import type { InferOutcome } from '../models/infer-outcome.js';
import type { RemoteSpeechStream } from './feature-offload.js';

/**
 * The models as a session pipeline sees them: already behind their batchers, shared by all sessions. A null entry
 * is a modality whose model is unavailable; its posterior is null in every result.
 */
export interface PipelineModels {
  speech: {
    name: string;
    createStream(): SpeechStream<unknown>;
    /**
     * Present when the server runs speech front ends in feature workers (streaming.featureWorkers > 0): the same
     * stream, off the event loop, with windows delivered asynchronously. Pipelines prefer it over createStream.
     */
    openRemoteStream?(onError: (msg: string) => void): RemoteSpeechStream;
    infer(window: unknown): Promise<InferOutcome>;
  } | null;
  face: { name: string; infer(window: AuWindow): Promise<InferOutcome> } | null;
  fusion: Fusion | null;
  video: VideoAnalyzer | null;
}
