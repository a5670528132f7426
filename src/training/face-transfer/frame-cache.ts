import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { extractJpegFrames } from '../face-eval/clip-frames.js';
import { type ClipLabel, parseClipLabel } from '../face-eval/clip-labels.js';
import { resolveFaceConfig } from '../../face/config.js';
import { FaceEngine } from '../../face/engine.js';
import { listLabelledClips } from '../face-eval/eval-clips.js';
import { defaultModelDir, FaceModels } from '../../face/face-models.js';
import { initTf } from '../tf.js';

/** One analysed frame of a clip: the largest face's landmarks and raw 7-class expression posterior, or no face. */
export interface CachedFrame {
  ptsUs: number;
  /** 468 x 3 landmarks in the clip's pixels, rounded to 0.01 px; null without a face. */
  mesh: number[] | null;
  /** FER-2013 classes (EXPRESSION_CLASSES order), null without a face. */
  expression7: number[] | null;
}

export interface CachedClip {
  clip: string;
  label: ClipLabel;
  frames: CachedFrame[];
}

export interface FrameCache {
  format: 'emostream-face-frames/1';
  dir: string;
  fps: number;
  clips: CachedClip[];
}

/**
 * Runs the face pipeline's tensor side (decode -> BlazeFace/tracking -> FaceMesh -> expression net on every frame)
 * once over every labelled clip and keeps what each face posterior is computed from, so comparing posteriors,
 * baselines and pooling rules re-uses it instead of re-running the models (minutes of CPU on a shared machine).
 * Everything downstream of the landmarks (geometry, baselines, AUs, the AU model, pooling) is recomputed from it.
 */
export async function buildFrameCache(dir: string, fps: number, log: (l: string) => void = () => {}): Promise<FrameCache> {
  const tf = await initTf();
  // Expression on every frame (the server runs it on every 2nd and holds it between: the cache has both).
  const config = resolveFaceConfig({ expressionEveryFrames: 1 });
  const engine = new FaceEngine(tf, await FaceModels.load(tf, defaultModelDir(), true), config);
  const clips: CachedClip[] = [];
  for (const path of listLabelledClips(dir)) {
    const name = relative(dir, path);
    const frames: CachedFrame[] = [];
    for (const f of await extractJpegFrames(path, fps)) {
      const r = await engine.analyze(name, { format: 'jpeg', width: f.width, height: f.height, payload: f.jpeg, ptsUs: f.ptsUs });
      const face = r.faces[0];
      frames.push({
        ptsUs: f.ptsUs,
        mesh: face ? Array.from(face.mesh, (v) => Math.round(v * 100) / 100) : null,
        expression7: face?.expression ? Array.from(face.expression, (v) => Math.round(v * 1e6) / 1e6) : null,
      });
    }
    engine.closeStream(name);
    clips.push({ clip: name, label: parseClipLabel(path)!, frames });
    log(`${name}: ${frames.filter((x) => x.mesh).length}/${frames.length} frames with a face`);
  }
  return { format: 'emostream-face-frames/1', dir, fps, clips };
}

/** The cache at `path` when it was built for the same folder and frame rate, else builds and writes it. */
export async function loadOrBuildFrameCache(path: string, dir: string, fps: number, log?: (l: string) => void): Promise<FrameCache> {
  if (existsSync(path)) {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as FrameCache;
    if (cached.format === 'emostream-face-frames/1' && cached.dir === dir && cached.fps === fps) return cached;
  }
  const cache = await buildFrameCache(dir, fps, log);
  writeFileSync(path, JSON.stringify(cache));
  return cache;
}
