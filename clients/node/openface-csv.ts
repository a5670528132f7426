import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AU_COLUMNS } from '../../src/protocol/labels.js';

export interface AuTrack {
  /** Per-frame AU vectors with their time from the start of the clip (µs). */
  frames: { ptsUs: number; aus: number[] }[];
  /** True when the CSV held one clip-mean row, replicated at `fps` over the clip. */
  fromClipMean: boolean;
}

/**
 * Reads an OpenFace 2.0 CSV (`frame, timestamp, ..., AU01_r, ..., AU45_c`, comma separated, spaces after commas)
 * or a clip-mean table like ../shared/ravdess/openface/clip-mean-aus.csv (`;` separated, one row per clip, a `name`
 * column). For a table with names, the row whose name matches `mediaFile` (RAVDESS ids compared without the
 * modality field) is used and replicated at `fps` for `durationS`.
 */
const textCache = new Map<string, string>();

export function readAuCsv(path: string, opts: { mediaFile?: string; durationS?: number; fps?: number } = {}): AuTrack {
  let text = textCache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8').trim();
    // Benchmarks read one clip-mean table for hundreds of clips; keep a few tables, not every file ever read.
    if (textCache.size < 4) textCache.set(path, text);
  }
  const lines = text.split(/\r?\n/);
  const sep = lines[0].includes(';') ? ';' : ',';
  const header = lines[0].split(sep).map((h) => h.trim());
  const colIdx = AU_COLUMNS.map((c) => header.indexOf(c));
  const missing = AU_COLUMNS.filter((_, i) => colIdx[i] < 0);
  if (missing.length > 0) throw new Error(`${path}: missing AU columns ${missing.join(', ')}`);
  const rows = lines.slice(1).filter((l) => l.trim()).map((l) => l.split(sep).map((v) => v.trim()));
  const tsIdx = header.indexOf('timestamp');
  const nameIdx = header.indexOf('name');
  const successIdx = header.indexOf('success');
  const vector = (r: string[]) => colIdx.map((i) => {
    const v = Number(r[i]);
    if (!Number.isFinite(v)) throw new Error(`${path}: non-numeric AU value "${r[i]}"`);
    return v;
  });
  if (tsIdx >= 0) {
    const frames = rows
      .filter((r) => successIdx < 0 || r[successIdx] !== '0')
      .map((r) => ({ ptsUs: Math.round(Number(r[tsIdx]) * 1e6), aus: vector(r) }));
    return { frames, fromClipMean: false };
  }
  let row = rows[0];
  if (nameIdx >= 0 && rows.length > 1) {
    if (!opts.mediaFile) throw new Error(`${path} holds ${rows.length} clips; name the media file to pick one`);
    const id = clipId(opts.mediaFile);
    const found = rows.find((r) => clipId(r[nameIdx]) === id);
    if (!found) throw new Error(`${path}: no row for clip ${id} (from ${basename(opts.mediaFile)})`);
    row = found;
  }
  const fps = opts.fps ?? 30;
  const n = Math.max(1, Math.floor((opts.durationS ?? 1) * fps));
  const aus = vector(row);
  return { frames: Array.from({ length: n }, (_, k) => ({ ptsUs: Math.round((k * 1e6) / fps), aus })), fromClipMean: true };
}

/** RAVDESS clip id without the modality field (`03-01-05-...` and `01-01-05-...` are the same performance). */
export function clipId(name: string): string {
  const stem = basename(name).replace(/\.[^.]+$/, '');
  const parts = stem.split('-');
  return parts.length === 7 ? parts.slice(1).join('-') : stem;
}
