import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AU_COLUMNS, AU_VECTOR_LENGTH } from '../../protocol/labels.js';
import { parseRavdessName } from '../ravdess.js';

/** One clip's per-frame AU sequence (frames x 35, row-major, AU_COLUMNS order). */
export interface AuSequence {
  clipId: string;
  actor: number;
  label: number;
  frames: number;
  aus: Float32Array;
}

/**
 * Reads OpenFace 2.0 FeatureExtraction CSVs (`<RAVDESS name>.csv`, comma-separated, headers may carry a leading space),
 * keeping the frames OpenFace tracked (`success` = 1 when the column exists). Errors name the file and line.
 */
export function loadPerFrameAus(dir: string): AuSequence[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`${dir}: no per-frame AU CSV files`);
  return files.map((f) => readOne(join(dir, f)));
}

export function readOne(path: string): AuSequence {
  const name = parseRavdessName(path);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${path}: no frames`);
  const header = lines[0].split(',').map((s) => s.trim());
  const missing = AU_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new Error(`${path}: line 1: missing column(s) ${missing.join(', ')}`);
  const idx = AU_COLUMNS.map((c) => header.indexOf(c));
  const successIdx = header.indexOf('success');
  const rows: number[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(',').map((s) => s.trim());
    if (cells.length !== header.length) throw new Error(`${path}: line ${i + 1}: ${cells.length} fields, header has ${header.length}`);
    if (successIdx >= 0 && Number(cells[successIdx]) !== 1) continue;
    const row = idx.map((j, k) => {
      const v = cells[j] === '' ? NaN : Number(cells[j]);
      if (!Number.isFinite(v)) throw new Error(`${path}: line ${i + 1}: column ${AU_COLUMNS[k]} is not a finite number ('${cells[j]}')`);
      return v;
    });
    rows.push(row);
  }
  if (rows.length === 0) throw new Error(`${path}: no successfully tracked frames`);
  const aus = new Float32Array(rows.length * AU_VECTOR_LENGTH);
  rows.forEach((r, f) => aus.set(r, f * AU_VECTOR_LENGTH));
  return { clipId: name.clipId, actor: name.actor, label: name.emotionIndex, frames: rows.length, aus };
}
