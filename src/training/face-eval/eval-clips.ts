import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FaceModel, VideoAnalyzer } from '../../contracts/models.js';
import { AU_VECTOR_LENGTH, EMOTIONS, type Emotion } from '../../protocol/labels.js';
import { argmax, confusionMatrix } from '../metrics.js';
import { extractJpegFrames } from './clip-frames.js';
import { type ClipLabel, parseClipLabel } from './clip-labels.js';

export interface ClipResult {
  clip: string;
  label: ClipLabel;
  frames: number;
  framesWithFace: number;
  meanFaceMs: number;
  p95FaceMs: number;
  /** Clip-mean of the largest face's AUs (35 columns). */
  meanAus: number[];
  /** AU face model (src/models/face) on the clip's AU frames, or null when that model is unavailable. */
  auModel: { probs: number[]; predicted: Emotion } | null;
  /** Mean of the per-frame expression posteriors, or null without faces. */
  expression: { probs: number[]; predicted: Emotion } | null;
}

export interface FaceEvalReport {
  dir: string;
  fps: number;
  clips: ClipResult[];
  auModelStatus: string;
  /** Over clips whose label maps onto the 8 emotions. */
  auModel: { correct: number; total: number; confusion: number[][] } | null;
  expression: { correct: number; total: number; confusion: number[][] };
}

/** Video files with a CREMA-D or MEAD name anywhere under `dir`. */
export function listLabelledClips(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(flv|mp4|mkv|webm|avi|mov)$/i.test(name) && parseClipLabel(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Runs every labelled clip of `dir` through the server's face path: JPEG frames at `fps` -> one analyzer stream per
 * clip (fresh tracker and calibration, as a new session would have) -> the largest face's AUs and expression
 * posterior per frame -> the AU face model on the clip's AU frames and the mean expression posterior.
 */
export async function evaluateFaceClips(opts: {
  dir: string;
  fps: number;
  analyzer: VideoAnalyzer;
  faceModel: FaceModel | null;
  log?: (line: string) => void;
}): Promise<FaceEvalReport> {
  const clips: ClipResult[] = [];
  const auAvailable = opts.faceModel?.status().available === true;
  for (const path of listLabelledClips(opts.dir)) {
    const label = parseClipLabel(path)!;
    const frames = await extractJpegFrames(path, opts.fps);
    const stream = opts.analyzer.createStream();
    const auRows: number[] = [];
    const exprSum = new Float64Array(EMOTIONS.length);
    let exprFrames = 0;
    const ms: number[] = [];
    try {
      for (const f of frames) {
        const r = await stream.analyze({ format: 'jpeg', width: f.width, height: f.height, payload: f.jpeg, ptsUs: f.ptsUs });
        ms.push(r.faceMs);
        const face = r.faces[0];
        if (!face) continue;
        auRows.push(...face.aus);
        if (face.expression) {
          for (let i = 0; i < EMOTIONS.length; i++) exprSum[i] += face.expression[i];
          exprFrames++;
        }
      }
    } finally {
      stream.dispose();
    }
    const n = auRows.length / AU_VECTOR_LENGTH;
    const meanAus = Array.from({ length: AU_VECTOR_LENGTH }, (_, c) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += auRows[i * AU_VECTOR_LENGTH + c];
      return n ? s / n : 0;
    });
    let auModel: ClipResult['auModel'] = null;
    if (auAvailable && n > 0) {
      const [probs] = await opts.faceModel!.inferBatch([{ aus: Float32Array.from(auRows), frames: n }]);
      auModel = { probs: Array.from(probs), predicted: EMOTIONS[argmax(probs)] };
    }
    const expression = exprFrames
      ? (() => {
          const probs = Array.from(exprSum, (v) => v / exprFrames);
          return { probs, predicted: EMOTIONS[argmax(probs)] };
        })()
      : null;
    ms.sort((a, b) => a - b);
    const result: ClipResult = {
      clip: relative(opts.dir, path),
      label,
      frames: frames.length,
      framesWithFace: n,
      meanFaceMs: ms.reduce((s, v) => s + v, 0) / Math.max(1, ms.length),
      p95FaceMs: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))] ?? 0,
      meanAus,
      auModel,
      expression,
    };
    clips.push(result);
    opts.log?.(`${result.clip}: ${label.emotion ?? label.source} -> AU model ${auModel?.predicted ?? '-'}, expression ${expression?.predicted ?? '-'} (${n}/${frames.length} frames with a face)`);
  }
  const scored = clips.filter((c) => c.label.emotion !== null);
  const summarise = (pick: (c: ClipResult) => { predicted: Emotion } | null): { correct: number; total: number; confusion: number[][] } => {
    const rows = scored.filter((c) => pick(c) !== null);
    const truth = rows.map((c) => EMOTIONS.indexOf(c.label.emotion!));
    const pred = rows.map((c) => EMOTIONS.indexOf(pick(c)!.predicted));
    return { correct: truth.filter((t, i) => t === pred[i]).length, total: rows.length, confusion: confusionMatrix(truth, pred) };
  };
  return {
    dir: opts.dir,
    fps: opts.fps,
    clips,
    auModelStatus: opts.faceModel ? (opts.faceModel.status().available ? `${opts.faceModel.name} (${opts.faceModel.status().path ?? ''})` : `unavailable: ${opts.faceModel.status().error}`) : 'not loaded',
    auModel: auAvailable ? summarise((c) => c.auModel) : null,
    expression: summarise((c) => c.expression),
  };
}

/** Plain-text table + confusion matrices for the terminal. */
export function formatFaceEval(r: FaceEvalReport): string {
  const lines: string[] = [];
  const pad = (s: string, n: number): string => s.padEnd(n);
  lines.push(`face branch on ${r.clips.length} clips of ${r.dir} at ${r.fps} fps; AU model: ${r.auModelStatus}`);
  lines.push(pad('clip', 44) + pad('label', 11) + pad('faces', 8) + pad('AU model', 11) + pad('expression', 11) + 'face ms mean/p95');
  for (const c of r.clips) {
    const mark = (p: { predicted: Emotion } | null): string => (p ? (p.predicted === c.label.emotion ? '+' : ' ') + p.predicted : ' -');
    lines.push(
      pad(c.clip, 44) + pad(c.label.emotion ?? `(${c.label.source})`, 11) + pad(`${c.framesWithFace}/${c.frames}`, 8) + pad(mark(c.auModel), 11) + pad(mark(c.expression), 11) +
        `${c.meanFaceMs.toFixed(1)}/${c.p95FaceMs.toFixed(1)}`,
    );
  }
  const matrix = (name: string, m: { correct: number; total: number; confusion: number[][] }): void => {
    lines.push('', `${name}: ${m.correct}/${m.total} clips correct (rows: truth, columns: predicted)`);
    lines.push(pad('', 11) + EMOTIONS.map((e) => e.slice(0, 5).padStart(6)).join(''));
    m.confusion.forEach((row, i) => {
      if (row.some((v) => v > 0)) lines.push(pad(EMOTIONS[i], 11) + row.map((v) => String(v).padStart(6)).join(''));
    });
  };
  if (r.auModel) matrix('AU face model', r.auModel);
  matrix('expression net', r.expression);
  return lines.join('\n');
}
