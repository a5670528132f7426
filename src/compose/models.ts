import { loadVideoAnalyzer } from '../face/index.js';
import type { OnnxRunnerFactory } from '../contracts/models.js';
import { WindowDroppedError, type InferOutcome } from '../models/infer-outcome.js';
import { ModelRegistry, defaultModelLoaders, type ModelLoaders, type RegistryConfig, type RegistryHooks } from '../models/registry.js';
import { OnnxWorkerPool, type WorkerPoolOptions } from '../models/worker-pool.js';
import { FeatureOffload } from './feature-offload.js';
import type { PipelineModels } from '../streaming/pipeline-models.js';

/** What the server holds of the models (it builds them only through this composition root). */
export type { ModelRegistry, ModelLoaders };

/** The process's ONNX Runtime worker pool (the server's default runner factory). */
export function createModelPool(opts: WorkerPoolOptions): OnnxWorkerPool {
  return new OnnxWorkerPool(opts);
}

/** The server's loaders: the model modules of src/models and the face pipeline of src/face as the video analyzer. */
export const defaultLoaders: ModelLoaders = {
  ...defaultModelLoaders,
  video: (config) => loadVideoAnalyzer(config as Record<string, unknown>),
};

/** Everything a server's sessions infer with: the loaded models, and the speech front ends' workers when configured. */
export interface ServerModels {
  readonly registry: ModelRegistry;
  /** Speech front ends in worker threads (streaming.featureWorkers > 0, default speech loader), else null. */
  readonly features: FeatureOffload | null;
  /** The models as every session pipeline uses them: behind their batchers, shared by all sessions. */
  readonly pipeline: PipelineModels;
  dispose(): Promise<void>;
}

/** A batcher's answer as the pipeline takes it: a window the batcher dropped (model behind real time) is null. */
async function droppedAsNull(outcome: Promise<InferOutcome>): Promise<InferOutcome | null> {
  try {
    return await outcome;
  } catch (err) {
    if (err instanceof WindowDroppedError) return null;
    throw err;
  }
}

/** The models behind their batchers, in the shape the streaming pipeline declares (src/streaming/pipeline-models.ts). */
export function pipelineModels(registry: ModelRegistry, features: FeatureOffload | null): PipelineModels {
  const { speech, face, fusion, video } = registry.loaded;
  const sb = registry.batchers.speech;
  const fb = registry.batchers.face;
  return {
    speech: speech && sb ? {
      name: speech.name,
      createStream: () => speech.createStream(),
      ...(features ? { openRemoteStream: (onError: (msg: string) => void) => features.open(onError) } : {}),
      infer: (w) => droppedAsNull(sb.submit(w)),
    } : null,
    face: face && fb ? { name: face.name, infer: (w) => droppedAsNull(fb.submit(w)) } : null,
    fusion,
    video,
  };
}

/**
 * Loads the models (never throws: a missing model is reported unavailable), then starts the feature workers when
 * `featureWorkers` > 0 and the speech model comes from the default loader (each worker loads the same model directory
 * to create identical streams). A worker start that fails leaves the front ends on the event loop.
 */
export async function loadServerModels(
  config: RegistryConfig, featureWorkers: number, runnerFactory: OnnxRunnerFactory, loaders: ModelLoaders,
  hooks: RegistryHooks, videoConfig: unknown,
): Promise<ServerModels> {
  const registry = await ModelRegistry.load(config, runnerFactory, loaders, hooks, videoConfig);
  let features: FeatureOffload | null = null;
  if (registry.loaded.speech && featureWorkers > 0 && loaders.speech === defaultModelLoaders.speech) {
    try {
      features = await FeatureOffload.start({ workers: featureWorkers, speechDir: config.speech.dir, log: (level, msg) => hooks.log(level, msg) });
      hooks.log('info', `speech front ends run in ${featureWorkers} feature worker(s)`);
    } catch (err) {
      hooks.log('warn', `feature workers failed to start (${err instanceof Error ? err.message : String(err)}); speech features run on the event loop`);
    }
  }
  return {
    registry,
    features,
    pipeline: pipelineModels(registry, features),
    dispose: async () => {
      await Promise.allSettled([registry.dispose(), features?.close()]);
    },
  };
}
