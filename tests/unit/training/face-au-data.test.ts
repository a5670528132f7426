import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClipMeanAus } from '../../../src/training/face/au-data.js';
import { fitMinMax, applyMinMax } from '../../../src/models/face/minmax.js';
import { innerActorFolds } from '../../../src/training/face/inner-split.js';

// Hand-written 2-row file in the layout of ../shared/ravdess/openface/clip-mean-aus.csv (values made up).
const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'face', 'clip-mean-aus-tiny.csv');
const variant = (edit: (text: string) => string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'aus-')), 'clip-mean-aus.csv');
  writeFileSync(path, edit(readFileSync(FIXTURE, 'utf8')));
  return path;
};

test('loadClipMeanAus parses names into clip id, actor and label, AUs in AU_COLUMNS order', () => {
  const clips = loadClipMeanAus(FIXTURE);
  assert.equal(clips.length, 2);
  assert.deepEqual(clips.map((c) => [c.clipId, c.actor, c.label]), [['01-03-02-01-02-07', 7, 2], ['01-06-01-02-01-12', 12, 5]]);
  assert.ok(Math.abs(clips[0].aus[8] - 1.7) < 1e-6); // AU12_r
  assert.ok(Math.abs(clips[1].aus[34] - 0.2) < 1e-6); // AU45_c
});

test('loadClipMeanAus: missing column, NaN, bad name and duplicates name the file and line', () => {
  const missing = variant((t) => t.replace('AU12_r;', 'AU12x;'));
  assert.throws(() => loadClipMeanAus(missing), (e: Error) => e.message.startsWith(missing) && /line 1: missing column\(s\) AU12_r/.test(e.message));
  const nan = variant((t) => t.replace('0.6;0.5;1.3', '0.6;nan;1.3'));
  assert.throws(() => loadClipMeanAus(nan), /line 3: column AU02_r is not a finite number \('nan'\)/);
  const badName = variant((t) => t.replace(/01-01-06-01-02-01-12;/, 'clip12;'));
  assert.throws(() => loadClipMeanAus(badName), /line 3: not a RAVDESS file name/);
  const dup = variant((t) => t.replace(/01-01-06-01-02-01-12;/, '02-01-03-02-01-02-07;'));
  assert.throws(() => loadClipMeanAus(dup), /line 3: clip 01-03-02-01-02-07 already on line 2/);
  const short = variant((t) => t.replace(/;0\n$/, '\n'));
  assert.throws(() => loadClipMeanAus(short), /line 3: 38 fields, header has 39/);
});

test('min-max: fitted on training rows, constant column keeps scale 1, test values not clipped', () => {
  const p = fitMinMax([[0, 5, 1], [2, 5, 3]]);
  assert.deepEqual(Array.from(applyMinMax(p, [1, 6, 5])), [0.5, 1, 2]);
  assert.throws(() => fitMinMax([[0, NaN]]), /row 0 column 1 is not finite/);
});

test('inner folds split actors, never clips of one actor', () => {
  const groups = innerActorFolds([1, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12], 5);
  assert.equal(groups.length, 5);
  assert.deepEqual(groups.flat().sort((a, b) => a - b), [1, 3, 4, 6, 7, 8, 9, 10, 11, 12]);
  assert.throws(() => innerActorFolds([1, 2], 5), /2 actors cannot make 5 folds/);
});
