import { EMOTIONS } from '../protocol/labels.js';
import type { ModelSummary } from '../protocol/v1/messages.js';
import type { FaceModel, Fusion, ModelStatus, OnnxRunnerFactory, SpeechModel, VideoAnalyzer, AuWindow } from '../contracts/models.js';
import { DynamicBatcher, type BatcherOptions } from './batcher.js';

export interface ModelLoadOptions {
  dir?: string;
  runnerFactory: OnnxRunnerFactory;
}

/**
 * How the server obtains each model. The defaults import the model modules (owned by the model issues) by dynamic
 * import, so the server works with none, some or all of them present; tests inject loaders for tiny ONNX graphs.
 * The video analyzer (src/face) is not a model module of this folder: the server passes its loader in
 * (src/server/compose-models.ts).
 */
export interface ModelLoaders {
  speech: (opts: ModelLoadOptions) => Promise<SpeechModel>;
  face: (opts: ModelLoadOptions) => Promise<FaceModel>;
  fusion: (opts: { dir?: string }) => Promise<Fusion>;
  video: (config: unknown) => Promise<VideoAnalyzer>;
}

async function importExport<T>(rel: string, name: string): Promise<T> {
  const mod = (await import(new URL(rel, import.meta.url).href)) as Record<string, unknown>;
  const fn = mod[name];
  if (typeof fn !== 'function') throw new Error(`${rel} does not export ${name}()`);
  return fn as T;
}

/** The loaders of this folder's own model modules; the server adds the video analyzer's. */
export const defaultModelLoaders: Omit<ModelLoaders, 'video'> = {
  speech: async (o) => (await importExport<ModelLoaders['speech']>('./speech/index.ts', 'loadSpeechModel'))(o),
  face: async (o) => (await importExport<ModelLoaders['face']>('./face/index.ts', 'loadFaceModel'))(o),
  fusion: async (o) => (await importExport<ModelLoaders['fusion']>('./fusion/index.ts', 'loadFusion'))(o),
};

export interface RegistryConfig {
  speech: { enabled: boolean; dir?: string };
  face: { enabled: boolean; dir?: string };
  fusion: { enabled: boolean; dir?: string };
  video: { enabled: boolean };
  batching: { enabled: boolean; maxBatch: number; maxDelayMs: number; maxQueue: number; timeoutMs?: number };
  workers: number;
}

export interface RegistryHooks {
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
  onBatch?: (model: string, size: number, inferMs: number) => void;
  onDrop?: (model: string, count: number) => void;
  onWindowError?: (model: string, err: Error) => void;
}

function unavailable(name: string, modality: ModelStatus['modality'], error: string): ModelStatus {
  return { name, modality, available: false, error, labels: EMOTIONS };
}

function describeLoadError(err: unknown, what: string): string {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(what)) return `${what} is not in this build (model not delivered yet)`;
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function safeStatus(get: () => ModelStatus, fallbackName: string, modality: ModelStatus['modality']): ModelStatus {
  try {
    return get();
  } catch (err) {
    return unavailable(fallbackName, modality, `status() threw: ${String(err)}`);
  }
}

/**
 * Loads every model once for the whole server, puts a dynamic batcher in front of each window model and answers
 * `/v1/models`. Never throws: a model that cannot be loaded is reported unavailable with its reason.
 */
export class ModelRegistry {
  private speech: SpeechModel | null = null;
  private face: FaceModel | null = null;
  private fusion: Fusion | null = null;
  private video: VideoAnalyzer | null = null;
  private statuses: Record<'speech' | 'face' | 'fusion' | 'video', ModelStatus> = {
    speech: unavailable('speech', 'speech', 'not loaded'),
    face: unavailable('face', 'face', 'not loaded'),
    fusion: unavailable('fusion', 'fusion', 'not loaded'),
    video: unavailable('video', 'face', 'not loaded'),
  };
  readonly batchers: { speech: DynamicBatcher<unknown> | null; face: DynamicBatcher<AuWindow> | null } = { speech: null, face: null };

  private constructor(private readonly config: RegistryConfig, private readonly hooks: RegistryHooks) {}

  static async load(config: RegistryConfig, runnerFactory: OnnxRunnerFactory, loaders: ModelLoaders, hooks: RegistryHooks, videoConfig: unknown): Promise<ModelRegistry> {
    const r = new ModelRegistry(config, hooks);
    await Promise.all([
      r.loadOne('speech', 'speech', config.speech.enabled, () => loaders.speech({ dir: config.speech.dir, runnerFactory }), 'src/models/speech/index.ts', (m) => { r.speech = m; }),
      r.loadOne('face', 'face', config.face.enabled, () => loaders.face({ dir: config.face.dir, runnerFactory }), 'src/models/face/index.ts', (m) => { r.face = m; }),
      r.loadOne('fusion', 'fusion', config.fusion.enabled, () => loaders.fusion({ dir: config.fusion.dir }), 'src/models/fusion/index.ts', (m) => { r.fusion = m; }),
      r.loadOne('video', 'face', config.video.enabled, () => loaders.video(videoConfig), 'src/face/index.ts', (m) => { r.video = m; }),
    ]);
    if (r.speech) r.batchers.speech = r.makeBatcher(r.speech.name, (ws) => r.speech!.inferBatch(ws));
    if (r.face) r.batchers.face = r.makeBatcher(r.face.name, (ws) => r.face!.inferBatch(ws));
    return r;
  }

  private async loadOne<M extends { status(): ModelStatus }>(
    key: 'speech' | 'face' | 'fusion' | 'video', modality: ModelStatus['modality'], enabled: boolean,
    load: () => Promise<M>, modulePath: string, keep: (m: M) => void,
  ): Promise<void> {
    if (!enabled) {
      this.statuses[key] = unavailable(key, modality, 'disabled in configuration');
      this.hooks.log('info', `model ${key}: disabled in configuration`);
      return;
    }
    let model: M;
    try {
      model = await load();
    } catch (err) {
      const reason = describeLoadError(err, modulePath.split('/').slice(-2).join('/'));
      this.statuses[key] = unavailable(key, modality, reason);
      this.hooks.log('warn', `model ${key} unavailable: ${reason}; serving without it (${key} is null in results)`);
      return;
    }
    const status = safeStatus(() => model.status(), key, modality);
    this.statuses[key] = status;
    if (!status.available) {
      this.hooks.log('warn', `model ${key} (${status.name}) unavailable: ${status.error ?? 'no reason given'}; serving without it`);
      return;
    }
    keep(model);
    this.hooks.log('info', `model ${key} loaded: ${status.name}${status.provider ? ` on ${status.provider}` : ''}${status.path ? ` from ${status.path}` : ''}`);
  }

  private makeBatcher<W>(name: string, infer: (ws: W[]) => Promise<Float32Array[]>): DynamicBatcher<W> {
    const b = this.config.batching;
    const opts: BatcherOptions = {
      name,
      maxBatch: b.enabled ? b.maxBatch : 1,
      maxDelayMs: b.enabled ? b.maxDelayMs : 0,
      maxQueue: b.maxQueue,
      maxInFlight: this.config.workers,
      timeoutMs: b.timeoutMs,
      onBatch: (size, ms) => this.hooks.onBatch?.(name, size, ms),
      onDrop: (n) => this.hooks.onDrop?.(name, n),
      onWindowError: (err) => this.hooks.onWindowError?.(name, err),
    };
    return new DynamicBatcher<W>(infer, opts);
  }

  /** The loaded, available models (null: missing, disabled or unavailable); window models go through `batchers`. */
  get loaded(): { speech: SpeechModel | null; face: FaceModel | null; fusion: Fusion | null; video: VideoAnalyzer | null } {
    return { speech: this.speech, face: this.face, fusion: this.fusion, video: this.video };
  }

  /** Full statuses for /v1/models (live: a model may report a provider or an error that changed). */
  status(): ModelStatus[] {
    const live = (key: 'speech' | 'face' | 'fusion' | 'video', m: { status(): ModelStatus } | null) =>
      (m ? safeStatus(() => m.status(), key, this.statuses[key].modality) : this.statuses[key]);
    return [live('speech', this.speech), live('face', this.face), live('fusion', this.fusion), live('video', this.video)]
      .map((s, i) => ({ ...s, details: { ...(s.details ?? {}), role: ['speech', 'face', 'fusion', 'video'][i] } }));
  }

  summary(): ModelSummary[] {
    return this.status().map((s) => ({
      name: s.name, modality: s.modality, available: s.available,
      ...(s.provider ? { provider: s.provider } : {}), ...(s.error ? { error: s.error } : {}),
    }));
  }

  async dispose(): Promise<void> {
    this.batchers.speech?.close();
    this.batchers.face?.close();
    await Promise.allSettled([this.speech?.dispose(), this.face?.dispose(), this.video?.dispose()]);
  }
}
