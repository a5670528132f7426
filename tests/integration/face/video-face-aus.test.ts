import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { VideoAnalyzer, VideoAnalyzerStream, VideoFrameInput } from '../../../src/contracts/models.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';
import { extractJpegFrames } from '../../../src/training/face-eval/clip-frames.js';
import { AU_COLUMNS, EMOTIONS } from '../../../src/protocol/labels.js';

/**
 * The face pipeline on real faces (CREMA-D actor 1001, committed fixtures): each expression frame is compared with
 * the same person's neutral frame after the stream has seen the neutral face (per-track calibration).
 */
const FIX = new URL('../../fixtures/faces/', import.meta.url);
const jpeg = (name: string): VideoFrameInput => ({ format: 'jpeg', width: 0, height: 0, payload: readFileSync(new URL(name, FIX)), ptsUs: 0 });
const col = (name: string): number => AU_COLUMNS.indexOf(name as (typeof AU_COLUMNS)[number]);

let analyzer: VideoAnalyzer;
let neutralAus: Float32Array;
let stream: VideoAnalyzerStream;
const DEBUG = process.env.EMOSTREAM_DEBUG_AUS === '1';

async function ausOf(s: VideoAnalyzerStream, frame: VideoFrameInput): Promise<Float32Array> {
  const r = await s.analyze(frame);
  assert.equal(r.faces.length, 1, 'exactly one face expected');
  assert.equal(r.faces[0].aus.length, 35);
  return r.faces[0].aus;
}

function show(label: string, aus: Float32Array): void {
  if (DEBUG) console.log(label, AU_COLUMNS.slice(0, 17).map((c, i) => `${c.slice(0, 4)}=${aus[i].toFixed(2)}`).join(' '));
}

before(async () => {
  analyzer = await loadVideoAnalyzer();
  assert.equal(analyzer.status().available, true, analyzer.status().error);
  stream = analyzer.createStream();
  // Calibration: the stream sees the person's resting face first.
  for (let i = 0; i < 10; i++) neutralAus = await ausOf(stream, jpeg('cremad-1001-neutral.jpg'));
  show('neutral', neutralAus);
});

after(async () => {
  stream?.dispose();
  await analyzer?.dispose();
});

/** Analyse an expression frame, then let the neutral face back in so each case starts from the same baseline. */
async function expressionAus(name: string): Promise<Float32Array> {
  const aus = await ausOf(stream, jpeg(name));
  show(name, aus);
  await ausOf(stream, jpeg('cremad-1001-neutral.jpg'));
  return aus;
}

function assertRises(aus: Float32Array, column: string, minDelta: number): void {
  const d = aus[col(column)] - neutralAus[col(column)];
  assert.ok(d >= minDelta, `${column} should rise by >= ${minDelta} over the neutral frame, rose ${d.toFixed(2)} (${neutralAus[col(column)].toFixed(2)} -> ${aus[col(column)].toFixed(2)})`);
}

test('neutral frame: intensities in OpenFace range, presences 0/1', () => {
  for (let i = 0; i < 17; i++) assert.ok(neutralAus[i] >= 0 && neutralAus[i] <= 5, `${AU_COLUMNS[i]}=${neutralAus[i]}`);
  for (let i = 17; i < 35; i++) assert.ok(neutralAus[i] === 0 || neutralAus[i] === 1, `${AU_COLUMNS[i]}=${neutralAus[i]}`);
});

test('smile raises AU06 (cheek raiser) and AU12 (lip corner puller)', async () => {
  const aus = await expressionAus('cremad-1001-smile.jpg');
  assertRises(aus, 'AU12_r', 1.0);
  assertRises(aus, 'AU06_r', 0.5);
});

test('open mouth raises AU25 (lips part) and AU26 (jaw drop)', async () => {
  const aus = await expressionAus('cremad-1001-open-mouth.jpg');
  assertRises(aus, 'AU25_r', 1.0);
  assertRises(aus, 'AU26_r', 0.5);
});

test('frown raises AU04 (brow lowerer)', async () => {
  const aus = await expressionAus('cremad-1001-frown.jpg');
  assertRises(aus, 'AU04_r', 0.5);
});

test('raised brows raise AU01 and AU02', async () => {
  const aus = await expressionAus('cremad-1001-brows-raised.jpg');
  assertRises(aus, 'AU01_r', 0.3);
  assertRises(aus, 'AU02_r', 0.1);
});

test('closed eyes raise AU45 (blink)', async () => {
  const aus = await expressionAus('cremad-1001-eyes-closed.jpg');
  assertRises(aus, 'AU45_r', 0.3);
});

test('expression posterior covers the 8 labels and reads the smile as happy', async () => {
  const r = await stream.analyze(jpeg('cremad-1001-smile.jpg'));
  const e = r.faces[0].expression;
  assert.ok(e, 'expression posterior expected');
  assert.equal(e.length, EMOTIONS.length);
  assert.ok(Math.abs(e.reduce((s, v) => s + v, 0) - 1) < 1e-4);
  assert.equal(e[EMOTIONS.indexOf('calm')], 0);
  assert.equal(EMOTIONS[e.indexOf(Math.max(...e))], 'happy');
  assert.ok(r.faceMs > 0);
});

const MEAD = new URL('../../../../shared/faces/mead/', import.meta.url);
test('MEAD W011 surprised vs neutral: brows up (AU01, AU02), mouth open (AU25/26)', { skip: existsSync(MEAD) ? false : 'needs ../shared/faces/mead' }, async () => {
  const s = analyzer.createStream();
  try {
    const neutral = await extractJpegFrames(new URL('W011_front_neutral_level1_001.mp4', MEAD).pathname, 5);
    const surprised = await extractJpegFrames(new URL('W011_front_surprised_level3_001.mp4', MEAD).pathname, 5);
    const mean = async (frames: typeof neutral): Promise<Float32Array> => {
      const sum = new Float32Array(35);
      for (const f of frames) {
        const a = await ausOf(s, { format: 'jpeg', width: f.width, height: f.height, payload: f.jpeg, ptsUs: f.ptsUs });
        for (let i = 0; i < 35; i++) sum[i] += a[i] / frames.length;
      }
      return sum;
    };
    const n = await mean(neutral);
    const x = await mean(surprised);
    show('mead neutral', n);
    show('mead surprised', x);
    for (const c of ['AU01_r', 'AU02_r', 'AU25_r', 'AU26_r']) assert.ok(x[col(c)] > n[col(c)], `${c}: surprised ${x[col(c)].toFixed(2)} <= neutral ${n[col(c)].toFixed(2)}`);
  } finally {
    s.dispose();
  }
});
