import { AuEstimator } from '../../face/au-estimator.js';
import { fitAuScale, meanGeometry } from '../face-eval/au-scale-fit.js';
import type { AuScale } from '../../face/au-scale.js';
import { DEFAULT_FACE_CONFIG } from '../../face/config.js';
import { type FaceBranch, logLinearPool, weightsFromAccuracy } from '../../face/face-posterior.js';
import { facsPosterior } from '../../face/facs-rules.js';
import type { FaceModel } from '../../contracts/models.js';
import { AU_VECTOR_LENGTH, EMOTIONS, type Emotion } from '../../protocol/labels.js';
import { argmax } from '../metrics.js';
import type { ClipGeometry } from './clip-geometry.js';

/** A way of turning landmarks into AUs: which baseline, and whether prior and scale are refitted without the test person. */
export interface AuVariant {
  name: string;
  /** 1 = the baseline takes every frame (the server before issue 20); < 1 pauses it during confident expressions. */
  pauseConfidence: number;
  /** true: prior and scale fitted on the other people's clips only (leave-one-subject-out); false: the shipped au-scale.json. */
  refit: boolean;
}

export const POOLS: Record<string, FaceBranch[]> = {
  'pool expression+au-model': ['expression', 'auModel'],
  'pool expression+facs': ['expression', 'facs'],
  'pool expression+au-model+facs': ['expression', 'auModel', 'facs'],
};

export interface ClipPosteriors {
  clip: string;
  speaker: string;
  label: Emotion;
  /** Column name -> clip posterior. */
  posteriors: Record<string, number[]>;
}

export interface TransferResult {
  columns: string[];
  clips: ClipPosteriors[];
  /** Per held-out speaker and variant: the pool weights fitted on the other speakers. */
  weights: Record<string, Record<string, Partial<Record<FaceBranch, number>>>>;
}

const mean = (rows: ArrayLike<number>[], width: number): Float32Array => {
  const m = new Float32Array(width);
  for (const r of rows) for (let k = 0; k < width; k++) m[k] += r[k] / rows.length;
  return m;
};

/** Replays a clip as its own session through the server's AU estimator; per-frame 35-column AUs. */
export function replayAus(c: ClipGeometry, scale: AuScale, pauseConfidence: number): Float32Array[] {
  const est = new AuEstimator(scale, { historyFrames: DEFAULT_FACE_CONFIG.calibrationHistoryFrames, priorWeightFrames: DEFAULT_FACE_CONFIG.calibrationPriorFrames, pauseConfidence });
  const out: Float32Array[] = [];
  c.meshes.forEach((m, i) => {
    const f = est.estimate(m, c.expression[i]);
    if (f) out.push(f.aus);
  });
  return out;
}

/** The three branch posteriors of one clip (the AU model's on all its frames: the static model uses their mean). */
async function branches(c: ClipGeometry, aus: Float32Array[], faceModel: FaceModel | null): Promise<Record<FaceBranch, Float32Array | null>> {
  const flat = new Float32Array(aus.length * AU_VECTOR_LENGTH);
  aus.forEach((a, i) => flat.set(a, i * AU_VECTOR_LENGTH));
  const [auModel] = faceModel && aus.length ? await faceModel.inferBatch([{ aus: flat, frames: aus.length }]) : [null];
  return { expression: mean(c.expression, EMOTIONS.length), auModel, facs: aus.length ? facsPosterior(mean(aus, AU_VECTOR_LENGTH)) : null };
}

const correct = (p: ArrayLike<number> | null, label: Emotion): boolean => p !== null && EMOTIONS[argmax(p)] === label;

/**
 * Leave-one-subject-out comparison of the face posteriors on every labelled clip (those whose label is one of the 8).
 * For each held-out person: the AU variants' prior and scale come from the other people's clips (when `refit`), the
 * pool weights from each branch's accuracy on the other people's clips, so nothing scored was looked at.
 */
export async function transferComparison(clips: ClipGeometry[], variants: AuVariant[], targets: Record<string, number[]>, shippedScale: AuScale, faceModel: FaceModel | null): Promise<TransferResult> {
  const labelled = clips.filter((c) => c.label.emotion !== null);
  const speakers = [...new Set(labelled.map((c) => c.label.speaker))];
  const rows = new Map<string, ClipPosteriors>();
  const weights: TransferResult['weights'] = {};
  const columns = new Set<string>(['expression net']);
  for (const held of speakers) {
    weights[held] = {};
    const train = clips.filter((c) => c.label.speaker !== held);
    for (const v of variants) {
      let scale = shippedScale;
      if (v.refit) {
        const prior = meanGeometry(train.filter((c) => c.label.emotion === 'neutral').flatMap((c) => c.features));
        const calibration = { historyFrames: DEFAULT_FACE_CONFIG.calibrationHistoryFrames, priorWeightFrames: DEFAULT_FACE_CONFIG.calibrationPriorFrames, pauseConfidence: v.pauseConfidence };
        const fitClips = train.map((c) => ({ features: c.features, paused: v.pauseConfidence < 1 ? c.paused : undefined }));
        scale = fitAuScale(fitClips, prior, calibration, targets, `LOSO without ${held}`);
      }
      const score = async (set: ClipGeometry[]) => Promise.all(set.map(async (c) => ({ c, b: await branches(c, replayAus(c, scale, v.pauseConfidence), faceModel) })));
      const trainScored = (await score(train.filter((c) => c.label.emotion !== null)));
      const accuracy: Partial<Record<FaceBranch, number>> = {};
      for (const b of ['expression', 'auModel', 'facs'] as FaceBranch[]) {
        accuracy[b] = trainScored.filter((x) => correct(x.b[b], x.c.label.emotion!)).length / trainScored.length;
      }
      const w = weightsFromAccuracy(accuracy);
      weights[held][v.name] = w;
      for (const { c, b } of await score(labelled.filter((c) => c.label.speaker === held))) {
        const row = rows.get(c.clip) ?? { clip: c.clip, speaker: held, label: c.label.emotion!, posteriors: {} };
        rows.set(c.clip, row);
        const put = (name: string, p: Float32Array | null): void => {
          columns.add(name);
          if (p) row.posteriors[name] = Array.from(p, (x) => Math.round(x * 1e4) / 1e4);
        };
        put('expression net', b.expression);
        put(`au-model [${v.name}]`, b.auModel);
        put(`facs [${v.name}]`, b.facs);
        for (const [name, members] of Object.entries(POOLS)) {
          put(`${name} [${v.name}]`, logLinearPool(b, Object.fromEntries(members.map((m) => [m, w[m] ?? 0]))));
        }
      }
    }
  }
  return { columns: [...columns], clips: labelled.map((c) => rows.get(c.clip)!), weights };
}

/** Markdown: one row per clip, one column per posterior, the predicted label (bold when right), then the counts. */
export function formatTransferTable(r: TransferResult): string {
  const short = (s: string): string => s;
  const lines = [`| clip | label | ${r.columns.map(short).join(' | ')} |`, `|---|---|${r.columns.map(() => '---').join('|')}|`];
  for (const c of r.clips) {
    const cells = r.columns.map((col) => {
      const p = c.posteriors[col];
      if (!p) return '-';
      const e = EMOTIONS[argmax(p)];
      return e === c.label ? `**${e}**` : e;
    });
    lines.push(`| ${c.clip.replace(/_front|_level\d_001|\.\w+$|_XX/g, '')} | ${c.label} | ${cells.join(' | ')} |`);
  }
  const counts = r.columns.map((col) => `${r.clips.filter((c) => c.posteriors[col] && EMOTIONS[argmax(c.posteriors[col])] === c.label).length}/${r.clips.length}`);
  lines.push(`| **clips right** | | ${counts.join(' | ')} |`);
  return lines.join('\n');
}

/** The pool weights a model shipped today gets: each branch's accuracy (minus chance) on every labelled clip. */
export async function shippedPoolWeights(clips: ClipGeometry[], scale: AuScale, pauseConfidence: number, faceModel: FaceModel | null): Promise<Partial<Record<FaceBranch, number>>> {
  const labelled = clips.filter((c) => c.label.emotion !== null);
  const scored = await Promise.all(labelled.map(async (c) => ({ c, b: await branches(c, replayAus(c, scale, pauseConfidence), faceModel) })));
  const accuracy: Partial<Record<FaceBranch, number>> = {};
  for (const b of ['expression', 'auModel', 'facs'] as FaceBranch[]) accuracy[b] = scored.filter((x) => correct(x.b[b], x.c.label.emotion!)).length / scored.length;
  const w = weightsFromAccuracy(accuracy);
  for (const k of Object.keys(w) as FaceBranch[]) w[k] = Math.round(w[k]! * 1000) / 1000;
  return w;
}
