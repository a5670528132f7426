import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAuCsv, clipId } from '../../../clients/node/openface-csv.js';
import { summarize, formatResult, percentile } from '../../../clients/node/timeline.js';
import { AU_COLUMNS } from '../../../src/protocol/labels.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';

const dir = mkdtempSync(join(tmpdir(), 'emo-csv-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('OpenFace per-frame CSV: timestamps, AU columns in protocol order, failed frames skipped', () => {
  const header = ['frame', ' timestamp', ' confidence', ' success', ...[...AU_COLUMNS].reverse().map((c) => ` ${c}`)].join(',');
  const row = (t: number, ok: number, base: number) => [1, t, 0.9, ok, ...[...AU_COLUMNS].reverse().map((_, i) => base + (34 - i))].join(', ');
  writeFileSync(join(dir, 'of.csv'), [header, row(0, 1, 0), row(0.033, 0, 100), row(0.066, 1, 10)].join('\n'));
  const t = readAuCsv(join(dir, 'of.csv'));
  assert.equal(t.fromClipMean, false);
  assert.deepEqual(t.frames.map((f) => f.ptsUs), [0, 66000]);
  assert.deepEqual(t.frames[0].aus.slice(0, 3), [0, 1, 2], 'columns are reordered to AU01_r, AU02_r, ...');
  assert.equal(t.frames[1].aus[34], 44);
});

test('clip-mean table: the row of the media file (modality field ignored), replicated at fps', () => {
  const header = [...AU_COLUMNS, 'speech', 'name', 'path', 'index'].join(';');
  const row = (name: string, v: number) => [...AU_COLUMNS.map(() => v), 1, name, 'x', 0].join(';');
  writeFileSync(join(dir, 'mean.csv'), [header, row('01-01-05-02-01-01-01', 0.5), row('01-01-03-01-01-01-02', 0.25)].join('\n'));
  const t = readAuCsv(join(dir, 'mean.csv'), { mediaFile: '/a/03-01-03-01-01-01-02.wav', durationS: 1, fps: 30 });
  assert.equal(t.fromClipMean, true);
  assert.equal(t.frames.length, 30);
  assert.equal(t.frames[29].ptsUs, Math.round((29 * 1e6) / 30));
  assert.ok(t.frames.every((f) => f.aus.every((v) => v === 0.25)));
  assert.throws(() => readAuCsv(join(dir, 'mean.csv'), { mediaFile: '03-01-08-01-01-01-09.wav' }), /no row for clip/);
  assert.equal(clipId('03-01-05-02-01-01-01.wav'), '01-05-02-01-01-01');
});

test('summary: percentiles, label share, mean posterior; timeline line mentions label and latency', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([], 50), null);
  const r = (label: number, total: number): EmotionResult => {
    const probs = new Array(8).fill(0);
    probs[label] = 1;
    return {
      type: 'emotion', sessionId: 's', hop: 0, windowStartUs: 0, windowEndUs: 500000, lastFramePtsUs: 480000, final: false,
      speech: { probs }, face: null, faces: null, expression: null, aus: null, fused: { probs, label: ['neutral', 'calm', 'happy', 'sad', 'angry'][label], head: 'h' },
      smoothed: null,
      latency: { queueMs: 1, speechMs: 1, faceMs: null, fuseMs: 0, totalMs: total }, droppedWindows: 0,
    };
  };
  const s = summarize([r(4, 2), r(4, 3), r(2, 10)], [5, 6, 20]);
  assert.equal(s.results, 3);
  assert.ok(Math.abs(s.labelShare.angry - 0.667) < 1e-3);
  assert.ok(Math.abs(s.meanFused!.angry - 0.6667) < 1e-3);
  assert.equal(s.e2eMs.p50, 6);
  assert.match(formatResult(r(4, 2), 5.5), /angry.*e2e 5\.5 ms srv 2\.0 ms/);
  // A final result repeating the last window (no new media after it) is shown as such and not counted twice.
  const repeat: EmotionResult = { ...r(2, 0), hop: 3, final: true, repeatOfHop: 2, lastFramePtsUs: null };
  const withRepeat = summarize([r(4, 2), r(4, 3), r(2, 10), repeat], [5, 6, 20]);
  assert.ok(Math.abs(withRepeat.labelShare.angry - 0.667) < 1e-3);
  assert.match(formatResult(repeat, null), /\(final, repeats hop 2\)/);
});
