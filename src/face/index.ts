import { EMOTIONS } from '../protocol/labels.js';
import type { ModelStatus, VideoAnalyzer, VideoAnalyzerStream } from '../contracts/models.js';
import { FaceVideoAnalyzer } from './analyzer.js';
import { loadAuScale } from './au-scale.js';
import { type FaceConfig, pickFaceConfig, resolveFaceConfig } from './config.js';
import { ProtocolError } from '../protocol/v1/errors.js';
import { defaultModelDir } from './face-models.js';
import { FaceWorkerClient } from './worker-client.js';

export type { FaceConfig } from './config.js';
export { DEFAULT_FACE_CONFIG } from './config.js';

/** What loadVideoAnalyzer returns when the pipeline cannot start: status() says why, every frame is refused. */
class UnavailableAnalyzer implements VideoAnalyzer {
  constructor(private readonly reason: string) {}
  status(): ModelStatus {
    return { name: 'face-pipeline', modality: 'face', available: false, error: this.reason, labels: EMOTIONS };
  }
  createStream(): VideoAnalyzerStream {
    const reason = this.reason;
    return {
      analyze: () => Promise.reject(new ProtocolError('EMO_ERR_VIDEO_UNAVAILABLE', `face pipeline unavailable: ${reason}`)),
      reset: () => {},
      dispose: () => {},
    };
  }
  async dispose(): Promise<void> {}
}

/**
 * The server's face pipeline (frames -> faces -> landmarks -> OpenFace AUs + expression posteriors), running its
 * TensorFlow.js work in a worker thread. Never throws: when the models or the worker cannot start, the analyzer's
 * status() is unavailable with the specific reason. `config` is a Partial<FaceConfig> or the server's AppConfig (its
 * `face` / `video` section is read).
 */
export async function loadVideoAnalyzer(config: Partial<FaceConfig> | Record<string, unknown> = {}): Promise<VideoAnalyzer> {
  let resolved: FaceConfig;
  try {
    resolved = resolveFaceConfig(pickFaceConfig(config));
  } catch (err) {
    return new UnavailableAnalyzer((err as Error).message);
  }
  let scale;
  try {
    scale = loadAuScale();
  } catch (err) {
    return new UnavailableAnalyzer(`AU scale (src/face/au-scale.json) unusable: ${(err as Error).message}`);
  }
  let modelDir: string;
  try {
    modelDir = resolved.modelDir ?? defaultModelDir();
  } catch (err) {
    return new UnavailableAnalyzer(`@vladmandic/human models not found: ${(err as Error).message}`);
  }
  const clients = Array.from({ length: resolved.workers }, () => new FaceWorkerClient(resolved, modelDir));
  try {
    const infos = await Promise.all(clients.map((c) => c.start()));
    return new FaceVideoAnalyzer(clients, scale, resolved, { ...infos[0], modelDir });
  } catch (err) {
    await Promise.all(clients.map((c) => c.dispose().catch(() => {})));
    return new UnavailableAnalyzer((err as Error).message);
  }
}
