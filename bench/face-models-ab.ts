/**
 * FaceMesh + expression pass of this checkout vs a baseline checkout's (src/face/face-models.ts), in one process on
 * the same decoded frames and crops, alternating call by call (old, new, old, new ...), so only the code differs:
 * CPU ms per call (min / median / max over the calls), and whether both give the same landmarks and posteriors.
 * Run: node --import tsx bench/face-models-ab.ts --baseline DIR [--frames 200] (DIR: see bench/face-stage-ab.ts)
 * Writes bench/results/face-stage-s9/models-ab.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { initTf } from '../src/training/tf.js';
import { extractJpegFrames } from '../src/training/face-eval/clip-frames.js';
import { resolveFaceConfig } from '../src/face/config.js';
import { decodeFrame } from '../src/face/decode.js';
import { defaultModelDir, FaceModels } from '../src/face/face-models.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const baseline = resolve(opt('--baseline') ?? '');
const frameCount = Number(opt('--frames') ?? 200);
const shared = new URL('../../shared/faces/', import.meta.url).pathname;
const tf = await initTf();
const Old = (await import(join(baseline, 'src/face/face-models.ts'))) as { FaceModels: typeof FaceModels };
const models = { old: await Old.FaceModels.load(tf, defaultModelDir(), true), new: await FaceModels.load(tf, defaultModelDir(), true) };
const config = resolveFaceConfig({});
const frames = (await extractJpegFrames(join(shared, 'mead/W009_front_happy_level3_001.mp4'), 10)).slice(0, frameCount);
const imgs = await Promise.all(frames.map((f) => decodeFrame({ format: 'jpeg', width: 0, height: 0, payload: f.jpeg, ptsUs: f.ptsUs }, config)));
const [det] = await models.new.detect(imgs[0], 0.5, 1);
const cpu: Record<'old' | 'new', number[]> = { old: [], new: [] };
let maxMeshDiff = 0, maxExprDiff = 0;
for (let rep = 0; rep < 3; rep++) {
  for (const img of imgs) {
    const out: Record<string, Awaited<ReturnType<FaceModels['landmarks']>>> = {};
    for (const side of ['old', 'new'] as const) {
      const c0 = process.cpuUsage();
      out[side] = await models[side].landmarks(img, [det.cropBox], true);
      const c = process.cpuUsage(c0);
      cpu[side].push((c.user + c.system) / 1000);
    }
    out.old[0].mesh.forEach((v, i) => (maxMeshDiff = Math.max(maxMeshDiff, Math.abs(v - out.new[0].mesh[i]))));
    out.old[0].expression!.forEach((v, i) => (maxExprDiff = Math.max(maxExprDiff, Math.abs(v - out.new[0].expression![i]))));
  }
}
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { calls: s.length, min: +s[0].toFixed(2), median: +s[Math.floor(s.length / 2)].toFixed(2), max: +s[s.length - 1].toFixed(2) };
};
const result = {
  bench: 'face-models-ab', date: new Date().toISOString(), loadavg1m: loadavg()[0], baseline,
  what: 'FaceModels.landmarks (FaceMesh + expression net with mirror) on one face crop per frame, MEAD W009 happy frames, 3 passes',
  cpuMsPerCall: { old: summary(cpu.old), new: summary(cpu.new) },
  maxAbsDiff: { meshPx: maxMeshDiff, expression: maxExprDiff },
};
mkdirSync(new URL('./results/face-stage-s9/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/face-stage-s9/models-ab.json', import.meta.url), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
