import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AU_COLUMNS, AU_VECTOR_LENGTH } from '../../protocol/labels.js';
import { parseRavdessName, RAVDESS_DIR } from '../ravdess.js';

export const CLIP_MEAN_AUS_PATH = join(RAVDESS_DIR, 'openface', 'clip-mean-aus.csv');

/** One RAVDESS audio-visual clip with its clip-mean AU vector (35 values in AU_COLUMNS order). */
export interface AuClip {
  clipId: string;
  actor: number;
  /** 0-based index into EMOTIONS. */
  label: number;
  aus: Float32Array;
}

/**
 * Reads the OpenFace clip-mean AU file (`;`-separated, header with the 35 AU columns in any order and `name`).
 * Strict: a missing column, a non-finite value, a bad or duplicate clip name is an error naming the file and line.
 */
export function loadClipMeanAus(path = CLIP_MEAN_AUS_PATH): AuClip[] {
  if (!existsSync(path)) throw new Error(`${path}: clip-mean AU file not found`);
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${path}: no data rows`);
  const sep = lines[0].includes(';') ? ';' : ',';
  const header = lines[0].split(sep).map((s) => s.trim());
  const required = [...AU_COLUMNS, 'name'];
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new Error(`${path}: line 1: missing column(s) ${missing.join(', ')}`);
  const auIdx = AU_COLUMNS.map((c) => header.indexOf(c));
  const nameIdx = header.indexOf('name');
  const clips: AuClip[] = [];
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const cells = lines[i].split(sep);
    if (cells.length !== header.length) throw new Error(`${path}: line ${lineNo}: ${cells.length} fields, header has ${header.length}`);
    const name = cells[nameIdx].trim();
    let parsed;
    try {
      parsed = parseRavdessName(name);
    } catch (err) {
      throw new Error(`${path}: line ${lineNo}: ${(err as Error).message}`, { cause: err });
    }
    const prev = seen.get(parsed.clipId);
    if (prev !== undefined) throw new Error(`${path}: line ${lineNo}: clip ${parsed.clipId} already on line ${prev}`);
    seen.set(parsed.clipId, lineNo);
    const aus = new Float32Array(AU_VECTOR_LENGTH);
    for (let k = 0; k < AU_VECTOR_LENGTH; k++) {
      const cell = cells[auIdx[k]].trim();
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) throw new Error(`${path}: line ${lineNo}: column ${AU_COLUMNS[k]} is not a finite number ('${cell}')`);
      aus[k] = v;
    }
    clips.push({ clipId: parsed.clipId, actor: parsed.actor, label: parsed.emotionIndex, aus });
  }
  return clips.sort((a, b) => a.clipId.localeCompare(b.clipId));
}
