import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuEstimator } from '../../../src/face/au-estimator.js';
import { loadAuScale } from '../../../src/face/au-scale.js';
import { resolveFaceConfig } from '../../../src/face/config.js';
import { FaceEngine } from '../../../src/face/engine.js';
import { defaultModelDir, FaceModels } from '../../../src/face/face-models.js';
import { mapExpression } from '../../../src/face/expression-map.js';
import { initTf } from '../../../src/training/tf.js';

/** What the face stage computes for one committed frame: the first frame of a fresh stream (detector, FaceMesh, expression net, AUs). */
export interface StageOutput {
  frame: string;
  mesh: number[];
  score: number;
  expression7: number[];
  aus: number[];
}

export const FIXTURE_DIR = new URL('../../fixtures/faces/', import.meta.url).pathname;
export const REFERENCE_PATH = join(FIXTURE_DIR, 'stage-reference.json');

/** Every committed test frame through the face stage, each as its own stream (so each is detected, meshed and classified). */
export async function stageOutputs(): Promise<StageOutput[]> {
  const tf = await initTf();
  const engine = new FaceEngine(tf, await FaceModels.load(tf, defaultModelDir(), true), resolveFaceConfig({}));
  const scale = loadAuScale();
  const out: StageOutput[] = [];
  for (const frame of readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.jpg')).sort()) {
    const r = await engine.analyze(frame, { format: 'jpeg', width: 0, height: 0, payload: readFileSync(join(FIXTURE_DIR, frame)), ptsUs: 0 });
    const face = r.faces[0];
    if (!face?.expression) throw new Error(`${frame}: no face or no expression`);
    const au = new AuEstimator(scale).estimate(face.mesh, mapExpression(face.expression));
    out.push({ frame, mesh: Array.from(face.mesh), score: face.score, expression7: Array.from(face.expression), aus: Array.from(au!.aus) });
    engine.closeStream(frame);
  }
  return out;
}
