/**
 * Why the server's video-only face results and the offline clip-level pool disagree (issue 20, target A): replays the
 * per-frame cache of `emostream eval face-transfer` (landmarks + expression posteriors of every frame, 10 fps) through
 * the same pure pieces the server runs per frame (AuEstimator with the shipped scale and gated baseline, the AU model,
 * the FACS rules, the shipped pool), once as the offline report scores a clip (one pool of clip-level branch
 * posteriors) and once as the server does (a 3 s window every 500 ms hop, each window pooled, the clip scored by the
 * mean of the windows' posteriors), with one server difference switched at a time, so each clip's loss can be
 * attributed to a mechanism. No models run here except the AU model (ONNX, milliseconds).
 * Run: node --import tsx bench/face-path-diagnosis.ts [--cache file] (../shared/faces needed; skips without it)
 * Writes bench/results/face-path-diagnosis.json.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuScale } from '../src/face/au-scale.js';
import { AuEstimator } from '../src/face/au-estimator.js';
import { DEFAULT_FACE_CONFIG } from '../src/face/config.js';
import { FACE_POOL_WEIGHTS, logLinearPool } from '../src/face/face-posterior.js';
import { facsPosterior } from '../src/face/facs-rules.js';
import { mapExpression } from '../src/face/expression-map.js';
import { loadFaceModel } from '../src/models/face/index.js';
import { createInProcessRunner } from '../src/models/onnx-runner-inprocess.js';
import { AU_VECTOR_LENGTH, EMOTIONS } from '../src/protocol/labels.js';
import { loadOrBuildFrameCache } from '../src/training/face-transfer/frame-cache.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const shared = new URL('../../shared/faces', import.meta.url).pathname;
if (!existsSync(shared)) {
  console.error(`../shared/faces not found (${shared}): nothing to diagnose`);
  process.exit(0);
}
const cache = await loadOrBuildFrameCache(opt('--cache') ?? join(tmpdir(), 'emostream-face-frames-10fps.json'), shared, 10, (l) => console.error(l));
const scale = loadAuScale();
const faceModel = (await loadFaceModel({ dir: 'models/face', runnerFactory: (p: string) => createInProcessRunner(p) }))!;
const WINDOW_US = 3_000_000;
const HOP_US = 500_000;

interface Frame { ptsUs: number; aus: Float32Array; expression: Float32Array }
const argmax = (p: ArrayLike<number>): number => {
  let k = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[k]) k = i;
  return k;
};
const meanOf = (rows: ArrayLike<number>[], width: number): Float32Array => {
  const m = new Float32Array(width);
  for (const r of rows) for (let k = 0; k < width; k++) m[k] += r[k] / rows.length;
  return m;
};

/** The three branch posteriors of a set of frames, as the server computes them for a window. */
async function branchesOf(frames: Frame[]) {
  const flat = new Float32Array(frames.length * AU_VECTOR_LENGTH);
  frames.forEach((f, i) => flat.set(f.aus, i * AU_VECTOR_LENGTH));
  const [auModel] = await faceModel.inferBatch([{ aus: flat, frames: frames.length }]);
  return { expression: meanOf(frames.map((f) => f.expression), EMOTIONS.length), auModel, facs: facsPosterior(meanOf(frames.map((f) => f.aus), AU_VECTOR_LENGTH)) };
}
/** The pooled face posterior of a set of frames (VideoFaceStage's `pool`). */
const pooled = async (frames: Frame[]): Promise<Float32Array> => logLinearPool(await branchesOf(frames), FACE_POOL_WEIGHTS)!;

/** Replays one clip's frames through a fresh AU estimator; expression held between every `exprEvery`-th frame as the engine does. */
function replay(frames: { ptsUs: number; mesh: Float32Array; expr: Float32Array }[], exprEvery: number): Frame[] {
  const est = new AuEstimator(scale, { historyFrames: DEFAULT_FACE_CONFIG.calibrationHistoryFrames, priorWeightFrames: DEFAULT_FACE_CONFIG.calibrationPriorFrames, pauseConfidence: DEFAULT_FACE_CONFIG.calibrationPauseConfidence });
  const out: Frame[] = [];
  let held: Float32Array | null = null;
  frames.forEach((f, i) => {
    if (i % exprEvery === 0 || !held) held = f.expr;
    const a = est.estimate(f.mesh, held);
    if (a) out.push({ ptsUs: f.ptsUs, aus: a.aus, expression: held });
  });
  return out;
}

/** The server's hop ends over a clip: every 500 ms while frames arrive, plus the one after the last frame (the flush). */
function hopEnds(frames: Frame[]): number[] {
  const ends: number[] = [];
  const last = frames[frames.length - 1].ptsUs;
  for (let end = HOP_US; ; end += HOP_US) {
    ends.push(end);
    if (end > last) return ends;
  }
}
/** Each hop's window [end - 3 s, end), as the AU windower cuts it; hops without frames are not results. */
const windowsOf = (frames: Frame[]): Frame[][] => hopEnds(frames).map((end) => frames.filter((f) => f.ptsUs >= end - WINDOW_US && f.ptsUs < end)).filter((w) => w.length > 0);
const pooledWindows = (frames: Frame[]): Promise<Float32Array[]> => Promise.all(windowsOf(frames).map((w) => pooled(w)));
const fmt = (x: Float32Array): string => Array.from(x, (v) => v.toFixed(2)).join(',');

const rows: Record<string, string | number>[] = [];
for (const c of cache.clips) {
  const label = c.label.emotion;
  if (!label) continue;
  const raw = c.frames.filter((f) => f.mesh && f.expression7).map((f) => ({ ptsUs: f.ptsUs, mesh: Float32Array.from(f.mesh!), expr: mapExpression(Float32Array.from(f.expression7!)) }));
  const every1 = replay(raw, 1);
  const every2 = replay(raw, DEFAULT_FACE_CONFIG.expressionEveryFrames);
  const name = (p: Float32Array) => EMOTIONS[argmax(p)];
  const clipPool = await pooled(every1);
  const clipPool2 = await pooled(every2);
  const win = await pooledWindows(every2);
  const winMean = meanOf(win, EMOTIONS.length);
  const win1 = await pooledWindows(every1);
  // What-ifs on how results are made from windows (not what the server does): the mean weighted by each window's
  // frames; only windows of at least 1 s of video; each hop pooling everything since the session started.
  const counts = windowsOf(every2).map((w) => w.length);
  const totalFrames = counts.reduce((x, y) => x + y, 0);
  const weighted = new Float32Array(EMOTIONS.length);
  win.forEach((w, i) => w.forEach((v, k) => (weighted[k] += (v * counts[i]) / totalFrames)));
  const full = win.filter((_, i) => counts[i] >= 10);
  const cumulative = await Promise.all(hopEnds(every2).map((end) => every2.filter((f) => f.ptsUs < end)).filter((w) => w.length > 0).map((w) => pooled(w)));
  const row = {
    clip: c.clip, label, frames: raw.length,
    offlineClipPool: name(clipPool),
    clipPoolExprEvery2: name(clipPool2),
    windowsMean: name(winMean),
    windowsMeanExprEvery1: name(meanOf(win1, EMOTIONS.length)),
    windowsFinal: name(win[win.length - 1]),
    windowsMeanByFrames: name(weighted),
    windowsMeanFrom1s: name(meanOf(full.length ? full : win, EMOTIONS.length)),
    cumulativeMean: name(meanOf(cumulative, EMOTIONS.length)),
    windowLabels: win.map(name).join(' '),
    windowsMeanTruth: +winMean[EMOTIONS.indexOf(label)].toFixed(3),
    // The true class's lead over the best other class in the mean of the windows (negative: wrong by that much).
    windowsMeanMargin: +(winMean[EMOTIONS.indexOf(label)] - Math.max(...Array.from(winMean).filter((_, k) => k !== EMOTIONS.indexOf(label)))).toFixed(3),
  };
  if (args.includes('--branches')) {
    const parts: string[] = [];
    for (const w of windowsOf(every2)) {
      const br = await branchesOf(w);
      parts.push(`to ${(w[w.length - 1].ptsUs / 1e6).toFixed(1)}s n${w.length} expression=${name(br.expression)} [${fmt(br.expression)}] au-model=${name(br.auModel)} facs=${name(br.facs)} [${fmt(br.facs)}] pool=${name(await pooled(w))}`);
    }
    console.log(c.clip, label, '\n  ' + parts.join('\n  '));
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}
const count = (k: string) => rows.filter((r) => r[k] === r.label).length;
const summary = Object.fromEntries(['offlineClipPool', 'clipPoolExprEvery2', 'windowsMean', 'windowsMeanExprEvery1', 'windowsFinal', 'windowsMeanByFrames', 'windowsMeanFrom1s', 'cumulativeMean'].map((k) => [k, `${count(k)}/${rows.length}`]));
console.log(JSON.stringify(summary));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/face-path-diagnosis.json', import.meta.url), JSON.stringify({ bench: 'face-path-diagnosis', date: new Date().toISOString(), summary, clips: rows }, null, 1) + '\n');
await faceModel.dispose();
