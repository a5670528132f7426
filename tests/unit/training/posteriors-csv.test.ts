import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPosteriorsCsv, readPosteriorFolds, writePosteriorsCsv } from '../../../src/training/posteriors.js';

const HEADER = 'clip_id,neutral,calm,happy,sad,angry,fearful,disgust,surprised';
const tmp = () => mkdtempSync(join(tmpdir(), 'posteriors-'));

test('writePosteriorsCsv / readPosteriorsCsv round-trip float32 values exactly', () => {
  const path = join(tmp(), 'm', 'fold0', 'test.csv');
  const probs = Float32Array.from([0.1, 0.2, 0.05, 0.05, 0.3, 0.1, 0.1, 0.1]);
  writePosteriorsCsv(path, [{ clipId: '01-05-02-01-01-16', probs }, { clipId: '01-01-01-01-01-01', probs: [-3.5, 2, 0, 0, 0, 0, 0, 1e-9] }]);
  assert.equal(readFileSync(path, 'utf8').split('\n')[0], HEADER);
  const rows = readPosteriorsCsv(path);
  assert.equal(rows.length, 2);
  assert.equal(rows[0].clipId, '01-05-02-01-01-16');
  assert.deepEqual(Array.from(rows[0].probs), Array.from(probs));
  assert.equal(rows[1].probs[0], -3.5); // logits are accepted too
});

test('writePosteriorsCsv refuses a modality field, duplicates, wrong widths and NaN', () => {
  const path = join(tmp(), 'x.csv');
  const p = new Array(8).fill(0.125);
  assert.throws(() => writePosteriorsCsv(path, [{ clipId: '03-01-05-02-01-01-16', probs: p }]), /row 1.*without the modality field/);
  assert.throws(() => writePosteriorsCsv(path, [{ clipId: '01-05-02-01-01-16', probs: p }, { clipId: '01-05-02-01-01-16', probs: p }]), /row 2.*duplicate/);
  assert.throws(() => writePosteriorsCsv(path, [{ clipId: '01-05-02-01-01-16', probs: [1, 2] }]), /2 values, expected 8/);
  assert.throws(() => writePosteriorsCsv(path, [{ clipId: '01-05-02-01-01-16', probs: [NaN, 0, 0, 0, 0, 0, 0, 0] }]), /'neutral' is not finite/);
});

function writeRaw(text: string): string {
  const path = join(tmp(), 'bad.csv');
  writeFileSync(path, text);
  return path;
}

test('readPosteriorsCsv: missing column names the file, line 1 and the column', () => {
  const path = writeRaw('clip_id,neutral,calm,happy,sad,angry,fearful,disgust\n01-01-01-01-01-01,1,0,0,0,0,0,0\n');
  assert.throws(() => readPosteriorsCsv(path), (e: Error) => e.message.includes(path) && /line 1: bad header \(missing column\(s\) surprised\)/.test(e.message));
});

test('readPosteriorsCsv: wrong label order is an error', () => {
  const path = writeRaw('clip_id,calm,neutral,happy,sad,angry,fearful,disgust,surprised\n01-01-01-01-01-01,1,0,0,0,0,0,0,0\n');
  assert.throws(() => readPosteriorsCsv(path), /line 1: bad header \(columns in the wrong order\)/);
});

test('readPosteriorsCsv: NaN / empty values name file, line and column', () => {
  const path = writeRaw(`${HEADER}\n01-01-01-01-01-01,1,0,0,0,0,0,0,0\n01-01-01-01-01-02,0,NaN,0,0,0,0,0,0\n`);
  assert.throws(() => readPosteriorsCsv(path), (e: Error) => e.message.startsWith(path) && /line 3: column 'calm' is not a finite number \('NaN'\)/.test(e.message));
  const empty = writeRaw(`${HEADER}\n01-01-01-01-01-01,1,0,0,0,,0,0,0\n`);
  assert.throws(() => readPosteriorsCsv(empty), /line 2: column 'angry'/);
});

test('readPosteriorsCsv: duplicate clip, bad clip id, wrong field count', () => {
  assert.throws(() => readPosteriorsCsv(writeRaw(`${HEADER}\n01-01-01-01-01-01,1,0,0,0,0,0,0,0\n01-01-01-01-01-01,1,0,0,0,0,0,0,0\n`)), /line 3: clip 01-01-01-01-01-01 already on line 2/);
  assert.throws(() => readPosteriorsCsv(writeRaw(`${HEADER}\nclipA,1,0,0,0,0,0,0,0\n`)), /line 2: bad clip id 'clipA'/);
  assert.throws(() => readPosteriorsCsv(writeRaw(`${HEADER}\n01-01-01-01-01-01,1,0,0\n`)), /line 2: 4 fields, expected 9/);
  assert.throws(() => readPosteriorsCsv(join(tmp(), 'nope.csv')), /posteriors file not found/);
});

function foldDir(root: string, k: number, train: string[], test: string[]): void {
  const row = (id: string) => `${id},1,0,0,0,0,0,0,0`;
  mkdirSync(join(root, `fold${k}`), { recursive: true });
  writeFileSync(join(root, `fold${k}`, 'train.csv'), [HEADER, ...train.map(row)].join('\n') + '\n');
  writeFileSync(join(root, `fold${k}`, 'test.csv'), [HEADER, ...test.map(row)].join('\n') + '\n');
}

test('readPosteriorFolds: a missing fold is named with the folds present', () => {
  const root = join(tmp(), 'face-x');
  foldDir(root, 0, ['01-01-01-01-01-01'], ['01-01-01-01-01-02']);
  foldDir(root, 2, ['01-01-01-01-01-01'], ['01-01-01-01-01-02']);
  assert.throws(() => readPosteriorFolds(root, 3), (e: Error) => e.message.includes(join(root, 'fold1')) && /missing fold 1 \(folds present: fold0, fold2\)/.test(e.message));
});

test('readPosteriorFolds: a clip in both train and test names the file, line and clip', () => {
  const root = join(tmp(), 'face-y');
  foldDir(root, 0, ['01-01-01-01-01-01', '01-01-01-01-01-03'], ['01-01-01-01-01-02', '01-01-01-01-01-03']);
  assert.throws(() => readPosteriorFolds(root, 1), (e: Error) => e.message.includes(join(root, 'fold0', 'test.csv')) && /line 3: clip 01-01-01-01-01-03 is also in .*train\.csv/.test(e.message));
});
