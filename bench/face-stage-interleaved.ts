/**
 * The whole face stage of this checkout vs a baseline checkout's, in ONE process, alternating frame by frame: each
 * frame of ../shared/faces (10 fps, every labelled clip, one stream per clip per side) goes through the old engine
 * (decode -> detector/tracking -> FaceMesh -> expression net) + AUs + driver state, then through the new one, and the
 * CPU time of each is taken. Noise from other processes then falls on both sides alike, which whole-process runs
 * (bench/face-stage-ab.ts) on a shared machine cannot promise. Also checks that both sides give the same landmarks.
 * Run: node --import tsx bench/face-stage-interleaved.ts --baseline DIR [--repeats 3] (DIR: see bench/face-stage-ab.ts)
 * Writes bench/results/face-stage-s9/interleaved.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { AuEstimator } from '../src/face/au-estimator.js';
import { loadAuScale } from '../src/face/au-scale.js';
import { resolveFaceConfig } from '../src/face/config.js';
import { DriverStateTracker } from '../src/face/driver-state.js';
import { FaceEngine } from '../src/face/engine.js';
import { mapExpression } from '../src/face/expression-map.js';
import { defaultModelDir, FaceModels } from '../src/face/face-models.js';
import { extractJpegFrames } from '../src/training/face-eval/clip-frames.js';
import { listLabelledClips } from '../src/training/face-eval/eval-clips.js';
import { initTf } from '../src/training/tf.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const baseline = resolve(opt('--baseline') ?? '');
const repeats = Number(opt('--repeats') ?? 3);
const shared = new URL('../../shared/faces', import.meta.url).pathname;
if (!existsSync(shared)) {
  console.error(`../shared/faces not found (${shared}): nothing to measure`);
  process.exit(0);
}
const tf = await initTf();
const config = resolveFaceConfig({});
const Old = {
  engine: (await import(join(baseline, 'src/face/engine.ts'))) as { FaceEngine: typeof FaceEngine },
  models: (await import(join(baseline, 'src/face/face-models.ts'))) as { FaceModels: typeof FaceModels },
};
const engines = {
  old: new Old.engine.FaceEngine(tf, await Old.models.FaceModels.load(tf, defaultModelDir(), true), config),
  new: new FaceEngine(tf, await FaceModels.load(tf, defaultModelDir(), true), config),
};
const scale = loadAuScale();
const clips = await Promise.all(listLabelledClips(shared).map(async (p) => ({ name: p, frames: await extractJpegFrames(p, 10) })));
const sides = ['old', 'new'] as const;
for (const side of sides) await engines[side].analyze('warmup', { format: 'jpeg', width: 0, height: 0, payload: clips[0].frames[0].jpeg, ptsUs: 0 });

const perRepeat: Record<(typeof sides)[number], number>[] = [];
let maxMeshDiff = 0;
let frames = 0;
for (let rep = 0; rep < repeats; rep++) {
  const cpuMs = { old: 0, new: 0 };
  frames = 0;
  for (const clip of clips) {
    const state = Object.fromEntries(sides.map((s) => [s, { est: new AuEstimator(scale), driver: new DriverStateTracker() }])) as Record<(typeof sides)[number], { est: AuEstimator; driver: DriverStateTracker }>;
    for (const f of clip.frames) {
      const meshes: Float32Array[] = [];
      // Alternate which side goes first, so neither always runs on a warmer cache.
      for (const side of frames % 2 ? sides : [...sides].reverse()) {
        const c0 = process.cpuUsage();
        const r = await engines[side].analyze(`${clip.name}#${rep}`, { format: 'jpeg', width: 0, height: 0, payload: f.jpeg, ptsUs: f.ptsUs });
        const face = r.faces[0];
        if (face) {
          const au = state[side].est.estimate(face.mesh, face.expression ? mapExpression(face.expression) : null);
          if (au) {
            state[side].driver.update(face.mesh, au.pose, f.ptsUs / 1000);
            state[side].driver.state();
          }
          meshes.push(face.mesh);
        }
        const c = process.cpuUsage(c0);
        cpuMs[side] += (c.user + c.system) / 1000;
      }
      if (meshes.length === 2) meshes[0].forEach((v, i) => (maxMeshDiff = Math.max(maxMeshDiff, Math.abs(v - meshes[1][i]))));
      frames++;
    }
    for (const side of sides) engines[side].closeStream(`${clip.name}#${rep}`);
  }
  perRepeat.push({ old: +(cpuMs.old / frames).toFixed(2), new: +(cpuMs.new / frames).toFixed(2) });
  console.error(`repeat ${rep + 1}/${repeats}: old ${perRepeat[rep].old}, new ${perRepeat[rep].new} ms CPU per frame (load ${loadavg()[0]})`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  bench: 'face-stage-interleaved',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, platform: platform(), arch: arch(), node: process.version, loadavg1m: loadavg()[0] },
  baseline,
  setup: { frames, clips: clips.length, driverState: true, expressionEveryFrames: config.expressionEveryFrames, redetectEveryFrames: config.redetectEveryFrames },
  cpuMsPerFrame: perRepeat,
  summary: {
    old: { min: Math.min(...perRepeat.map((r) => r.old)), median: median(perRepeat.map((r) => r.old)) },
    new: { min: Math.min(...perRepeat.map((r) => r.new)), median: median(perRepeat.map((r) => r.new)) },
  },
  maxMeshDiffPx: maxMeshDiff,
  target: { faceStageCpuMsPerFrame: 20 },
};
mkdirSync(new URL('./results/face-stage-s9/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/face-stage-s9/interleaved.json', import.meta.url), JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
