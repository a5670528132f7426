import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EMOTIONS, NUM_EMOTIONS } from '../protocol/labels.js';

/**
 * Per-clip posteriors (or any real-valued scores) exchanged between the base-model trainers and the fusion trainer.
 * CSV, header `clip_id,neutral,calm,...,surprised`, one row per clip. Clip ids have no modality field
 * (`01-05-02-01-01-16`), so the speech (.wav, 03-) and face (.mp4, 01-) rows of one performance match.
 */
export const POSTERIOR_HEADER = ['clip_id', ...EMOTIONS] as const;

export interface PosteriorRow {
  clipId: string;
  probs: ArrayLike<number>;
}

export interface ReadPosteriorRow {
  clipId: string;
  probs: Float32Array;
}

const CLIP_ID_RE = /^\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/;

/** Writes rows (creating the folder); refuses bad clip ids, duplicates, wrong widths and non-finite values. */
export function writePosteriorsCsv(path: string, rows: PosteriorRow[]): void {
  const seen = new Set<string>();
  const lines = [POSTERIOR_HEADER.join(',')];
  rows.forEach((row, i) => {
    const where = `${path}: row ${i + 1} (clip ${row.clipId})`;
    if (!CLIP_ID_RE.test(row.clipId)) {
      throw new Error(`${where}: clip id must be VV-EE-II-SS-RR-AA without the modality field`);
    }
    if (seen.has(row.clipId)) throw new Error(`${where}: duplicate clip id`);
    seen.add(row.clipId);
    if (row.probs.length !== NUM_EMOTIONS) throw new Error(`${where}: ${row.probs.length} values, expected ${NUM_EMOTIONS}`);
    const cells: string[] = [row.clipId];
    for (let k = 0; k < NUM_EMOTIONS; k++) {
      const v = row.probs[k];
      if (!Number.isFinite(v)) throw new Error(`${where}: value for '${EMOTIONS[k]}' is not finite (${v})`);
      // 9 significant digits round-trip a float32 exactly.
      cells.push(Number(v.toPrecision(9)).toString());
    }
    lines.push(cells.join(','));
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.join('\n') + '\n');
}

/**
 * Reads a posteriors CSV with strict validation: the exact header (label order included), a valid unique clip id and
 * 8 finite numbers on every row. Every error names the file and the 1-based line.
 */
export function readPosteriorsCsv(path: string): ReadPosteriorRow[] {
  if (!existsSync(path)) throw new Error(`${path}: posteriors file not found`);
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new Error(`${path}: empty file (expected header ${POSTERIOR_HEADER.join(',')})`);
  const header = lines[0].split(',').map((s) => s.trim());
  const expected = POSTERIOR_HEADER as readonly string[];
  if (header.length !== expected.length || header.some((h, i) => h !== expected[i])) {
    const missing = expected.filter((c) => !header.includes(c));
    const detail = missing.length > 0 ? `missing column(s) ${missing.join(', ')}` : 'columns in the wrong order';
    throw new Error(`${path}: line 1: bad header (${detail}); expected exactly ${expected.join(',')}, got ${header.join(',')}`);
  }
  const rows: ReadPosteriorRow[] = [];
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const cells = lines[i].split(',').map((s) => s.trim());
    if (cells.length !== expected.length) {
      throw new Error(`${path}: line ${lineNo}: ${cells.length} fields, expected ${expected.length}`);
    }
    const clipId = cells[0];
    if (!CLIP_ID_RE.test(clipId)) {
      throw new Error(`${path}: line ${lineNo}: bad clip id '${clipId}' (expected VV-EE-II-SS-RR-AA, no modality field)`);
    }
    const prev = seen.get(clipId);
    if (prev !== undefined) throw new Error(`${path}: line ${lineNo}: clip ${clipId} already on line ${prev}`);
    seen.set(clipId, lineNo);
    const probs = new Float32Array(NUM_EMOTIONS);
    for (let k = 0; k < NUM_EMOTIONS; k++) {
      const cell = cells[k + 1];
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new Error(`${path}: line ${lineNo}: column '${EMOTIONS[k]}' is not a finite number ('${cell}')`);
      }
      probs[k] = v;
    }
    rows.push({ clipId, probs });
  }
  return rows;
}

export interface PosteriorFold {
  train: ReadPosteriorRow[];
  test: ReadPosteriorRow[];
}

/** `<dir>/fold<k>/{train,test}.csv` for k = 0..numFolds-1; errors name the missing fold/file or the leaking clip. */
export function readPosteriorFolds(modelDir: string, numFolds: number): PosteriorFold[] {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw new Error(`${modelDir}: posteriors directory not found`);
  const folds: PosteriorFold[] = [];
  for (let k = 0; k < numFolds; k++) {
    const foldDir = join(modelDir, `fold${k}`);
    if (!existsSync(foldDir)) {
      const present = readdirSync(modelDir).filter((d) => /^fold\d+$/.test(d)).sort().join(', ') || 'none';
      throw new Error(`${foldDir}: missing fold ${k} (folds present: ${present})`);
    }
    const trainPath = join(foldDir, 'train.csv');
    const testPath = join(foldDir, 'test.csv');
    const train = readPosteriorsCsv(trainPath);
    const test = readPosteriorsCsv(testPath);
    const trainIds = new Set(train.map((r) => r.clipId));
    test.forEach((r, i) => {
      if (trainIds.has(r.clipId)) {
        throw new Error(`${testPath}: line ${i + 2}: clip ${r.clipId} is also in ${trainPath} (train and test must be disjoint)`);
      }
    });
    folds.push({ train, test });
  }
  return folds;
}
