import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EMOTIONS, type Emotion } from '../../../protocol/labels.js';
import type { Corpus, CorpusClip, CorpusReader } from './types.js';

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" inside quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur); cur = ''; }
    else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

const isEmotion = (s: string): s is Emotion => (EMOTIONS as readonly string[]).includes(s);

/** Builds the Corpus of a clip list, checking what every corpus must satisfy (non-empty, >= 2 clips per speaker). */
export function corpusOf(name: string, dir: string, clips: CorpusClip[], where: string): Corpus {
  if (clips.length === 0) throw new Error(`${where}: corpus '${name}' has no clips`);
  const bySpeaker = new Map<string, CorpusClip[]>();
  for (const c of clips) bySpeaker.set(c.speaker, [...(bySpeaker.get(c.speaker) ?? []), c]);
  for (const [speaker, list] of bySpeaker) {
    // Per-speaker normalisation and speaker-grouped splits both need at least two clips of a speaker.
    if (list.length < 2) throw new Error(`${list[0].source}: speaker '${speaker}' has only one clip (${list[0].clipId}); every speaker needs >= 2 (per-speaker normalisation, speaker-grouped splits)`);
  }
  const emotions = EMOTIONS.filter((e) => clips.some((c) => c.emotion === e));
  return { name, dir, clips, emotions, speakers: [...bySpeaker.keys()].sort() };
}

/**
 * A corpus folder with a `labels.csv` (columns `file` relative to the folder, `speaker` or `subject`, `emotion` in the
 * RAVDESS vocabulary; optional `gender`, any extra columns), as ../shared/extra/speech/* is laid out. Every problem is
 * an error naming the file and line.
 */
export class LabelsCsvCorpusReader implements CorpusReader {
  readonly name: string;
  private readonly dir: string;

  constructor(dir: string, name?: string) {
    this.dir = resolve(dir);
    this.name = name ?? basename(this.dir);
  }

  read(): Corpus {
    const csv = join(this.dir, 'labels.csv');
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) throw new Error(`corpus folder not found: ${this.dir}`);
    if (!existsSync(csv)) throw new Error(`${this.dir}: corpus folder without labels.csv (expected ${csv} with columns file, speaker, emotion)`);
    const lines = readFileSync(csv, 'utf8').split(/\r?\n/);
    const header = splitCsvLine(lines[0] ?? '');
    const col = (names: string[]) => header.findIndex((h) => names.includes(h));
    const iFile = col(['file']), iSpeaker = col(['speaker', 'subject']), iEmotion = col(['emotion']), iGender = col(['gender']);
    const missing = [['file', iFile], ['speaker', iSpeaker], ['emotion', iEmotion]].filter(([, i]) => i === -1).map(([n]) => n);
    if (missing.length > 0) throw new Error(`${csv}:1: header lacks column(s) ${missing.join(', ')} (has ${header.join(', ')})`);
    const clips: CorpusClip[] = [];
    const seen = new Set<string>();
    for (let ln = 1; ln < lines.length; ln++) {
      if (lines[ln].trim() === '') continue;
      const where = `${csv}:${ln + 1}`;
      const row = splitCsvLine(lines[ln]);
      if (row.length !== header.length) throw new Error(`${where}: ${row.length} fields, the header has ${header.length}`);
      const file = row[iFile], speaker = row[iSpeaker], emotion = row[iEmotion].toLowerCase();
      if (!file) throw new Error(`${where}: empty file name`);
      if (!speaker) throw new Error(`${where}: empty speaker`);
      if (!isEmotion(emotion)) throw new Error(`${where}: emotion '${row[iEmotion]}' is not one of the 8 names (${EMOTIONS.join(', ')})`);
      const path = resolve(this.dir, file);
      if (!path.startsWith(this.dir)) throw new Error(`${where}: file '${file}' lies outside the corpus folder`);
      if (!existsSync(path)) throw new Error(`${where}: file not found: ${path}`);
      if (seen.has(path)) throw new Error(`${where}: file '${file}' is listed twice`);
      seen.add(path);
      const extra: Record<string, string> = {};
      header.forEach((h, i) => { if (![iFile, iSpeaker, iEmotion, iGender].includes(i)) extra[h] = row[i]; });
      clips.push({
        corpus: this.name, clipId: `${this.name}:${file}`, path, source: where, speaker,
        ...(iGender >= 0 && row[iGender] ? { gender: row[iGender] } : {}),
        emotion, emotionIndex: EMOTIONS.indexOf(emotion), extra,
      });
    }
    return corpusOf(this.name, this.dir, clips, csv);
  }
}
