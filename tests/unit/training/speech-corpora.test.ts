import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelsCsvCorpusReader, evaluationClips, extraCorpusReaders, readClipAudio, EXTRA_SPEECH_DIR } from '../../../src/training/speech/corpora/index.js';
import { existsSync } from 'node:fs';

/** A 16-bit PCM mono WAV of `seconds` of a 200 Hz tone at `rate`. */
function wav(rate: number, seconds = 0.5): Buffer {
  const n = Math.round(rate * seconds);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 200 * i) / rate)), 44 + 2 * i);
  return b;
}

/** A temp corpus folder; `rows` are labels.csv lines after the header (null = no labels.csv). */
function corpus(rows: string[] | null, files: Record<string, Buffer> = {}, header = 'file,speaker,gender,emotion,sentence_type'): string {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-corpus-'));
  mkdirSync(join(dir, 'wav'));
  for (const [f, bytes] of Object.entries(files)) writeFileSync(join(dir, f), bytes);
  if (rows) writeFileSync(join(dir, 'labels.csv'), [header, ...rows].join('\n') + '\n');
  return dir;
}

const good = { 'wav/a1.wav': wav(16000), 'wav/a2.wav': wav(16000), 'wav/b1.wav': wav(16000), 'wav/b2.wav': wav(16000) };
const goodRows = ['wav/a1.wav,x_a,female,happy,common', 'wav/a2.wav,x_a,female,sad,emotion_specific', 'wav/b1.wav,x_b,male,happy,common', 'wav/b2.wav,x_b,male,"sad",common'];

test('labels.csv corpus: clips, speakers, present emotions, extra columns, audio', () => {
  const dir = corpus(goodRows, good);
  try {
    const c = new LabelsCsvCorpusReader(dir, 'x').read();
    assert.equal(c.clips.length, 4);
    assert.deepEqual(c.speakers, ['x_a', 'x_b']);
    assert.deepEqual(c.emotions, ['happy', 'sad']);
    assert.equal(c.clips[3].emotion, 'sad');
    assert.equal(c.clips[1].extra.sentence_type, 'emotion_specific');
    assert.equal(c.clips[0].source, `${join(dir, 'labels.csv')}:2`);
    assert.equal(readClipAudio(c.clips[0]).length, 8000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad corpora: each problem is an error naming the file and line', () => {
  const cases: [string, string[] | null, Record<string, Buffer>, RegExp][] = [
    ['no labels.csv', null, good, /corpus folder without labels\.csv/],
    ['label outside the 8 names', [...goodRows.slice(0, 3), 'wav/b2.wav,x_b,male,boredom,common'], good, /labels\.csv:5: emotion 'boredom' is not one of the 8 names/],
    ['missing file', [...goodRows.slice(0, 3), 'wav/zz.wav,x_b,male,sad,common'], good, /labels\.csv:5: file not found: .*zz\.wav/],
    ['speaker with one clip', [...goodRows, 'wav/c1.wav,x_c,male,sad,common'], { ...good, 'wav/c1.wav': wav(16000) }, /labels\.csv:6: speaker 'x_c' has only one clip/],
    ['empty corpus', [], good, /corpus 'x' has no clips/],
    ['short row', [...goodRows.slice(0, 3), 'wav/b2.wav,x_b'], good, /labels\.csv:5: 2 fields, the header has 5/],
  ];
  for (const [what, rows, files, re] of cases) {
    const dir = corpus(rows, files);
    try {
      assert.throws(() => new LabelsCsvCorpusReader(dir, 'x').read(), re, what);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const noCols = corpus(['a,b'], good, 'path,label');
  try {
    assert.throws(() => new LabelsCsvCorpusReader(noCols, 'x').read(), /labels\.csv:1: header lacks column\(s\) file, speaker, emotion/);
  } finally {
    rmSync(noCols, { recursive: true, force: true });
  }
});

test('audio that is not 16 kHz WAV: an error naming the labels line and the file', () => {
  const dir = corpus(goodRows, { ...good, 'wav/b2.wav': wav(44100), 'wav/a2.wav': Buffer.from('ID3 not a wav at all') });
  try {
    const c = new LabelsCsvCorpusReader(dir, 'x').read();
    assert.throws(() => readClipAudio(c.clips[3]), /labels\.csv:5: .*b2\.wav is 44100 Hz; corpora must be 16000 Hz/);
    assert.throws(() => readClipAudio(c.clips[1]), /labels\.csv:3: .*a2\.wav is not a readable WAV file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shared extra corpora read cleanly; ASED evaluates on common sentences only (skips without ../shared)', { skip: existsSync(EXTRA_SPEECH_DIR) ? false : `${EXTRA_SPEECH_DIR} not found: skipped` }, () => {
  const corpora = extraCorpusReaders().map((r) => r.read());
  const ased = corpora.find((c) => c.name === 'ased')!, urdu = corpora.find((c) => c.name === 'urdu')!;
  assert.equal(ased.clips.length, 867);
  assert.deepEqual(ased.emotions, ['neutral', 'happy', 'sad', 'angry', 'fearful']);
  assert.equal(evaluationClips(ased).length, 312);
  assert.equal(urdu.clips.length, 400);
  assert.deepEqual(urdu.emotions, ['neutral', 'happy', 'sad', 'angry']);
  assert.equal(urdu.speakers.length, 29);
  assert.equal(readClipAudio(urdu.clips[0]).length > 16000, true);
});
