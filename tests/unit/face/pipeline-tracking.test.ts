import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaceTracker } from '../../../src/face/tracker.js';
import type { Box } from '../../../src/face/box.js';
import { NeutralBaseline } from '../../../src/face/au-calibration.js';
import { rawActivations, scaleActivations } from '../../../src/face/au-estimator.js';
import { GEOMETRY_LENGTH, G } from '../../../src/face/au-geometry.js';
import { loadAuScale } from '../../../src/face/au-scale.js';
import { mapExpression } from '../../../src/face/expression-map.js';
import { parseClipLabel } from '../../../src/training/face-eval/clip-labels.js';
import { pickFaceConfig, resolveFaceConfig } from '../../../src/face/config.js';
import { EMOTIONS } from '../../../src/protocol/labels.js';

const box = (x: number, y: number, s: number): Box => ({ x0: x, y0: y, x1: x + s, y1: y + s });
const opts = { maxFaces: 2, redetectEveryFrames: 3, idleDetectEveryFrames: 2, minMeshScore: 0.5, matchIou: 0.3, meshBoxToCrop: 1.45 };

test('tracker: detect, then track from landmarks, re-detect every N frames, stable ids', () => {
  const t = new FaceTracker(opts);
  assert.equal(t.needsDetection(), true);
  let c = t.candidates([{ cropBox: box(100, 100, 145), score: 0.9 }]);
  assert.deepEqual(c.map((x) => x.trackId), [null]);
  let kept = t.update([{ candidate: c[0], meshScore: 0.99, meshBox: box(120, 120, 100) }]);
  assert.deepEqual(kept.map((k) => k.trackId), [1]);
  for (let i = 0; i < 2; i++) {
    assert.equal(t.needsDetection(), false);
    c = t.candidates(null);
    assert.deepEqual(c.map((x) => x.trackId), [1]);
    kept = t.update([{ candidate: c[0], meshScore: 0.99, meshBox: box(122 + i, 120, 100) }]);
    assert.equal(kept[0].trackId, 1);
  }
  assert.equal(t.needsDetection(), true, 'periodic re-detection');
  // The re-detected face overlaps the track: same id, not a new face.
  c = t.candidates([{ cropBox: box(104, 100, 145), score: 0.9 }]);
  assert.equal(c.length, 1);
});

test('tracker: lost face (low FaceMesh flag) forces detection; a returning face gets a new id', () => {
  const t = new FaceTracker(opts);
  let c = t.candidates([{ cropBox: box(100, 100, 145), score: 0.9 }]);
  t.update([{ candidate: c[0], meshScore: 0.99, meshBox: box(120, 120, 100) }]);
  c = t.candidates(null);
  assert.deepEqual(t.update([{ candidate: c[0], meshScore: 0.1, meshBox: box(120, 120, 100) }]), []);
  assert.equal(t.needsDetection(), true);
  assert.deepEqual(t.candidates([]), []);
  assert.deepEqual(t.update([]), []);
  // Nobody in view: the detector runs on every 2nd frame only.
  assert.equal(t.needsDetection(), false);
  assert.deepEqual(t.candidates(null), []);
  t.update([]);
  assert.equal(t.needsDetection(), true);
  c = t.candidates([{ cropBox: box(300, 100, 145), score: 0.9 }]);
  const kept = t.update([{ candidate: c[0], meshScore: 0.99, meshBox: box(320, 120, 100) }]);
  assert.deepEqual(kept.map((k) => k.trackId), [2]);
});

test('tracker: many faces -> at most maxFaces, largest first; duplicates of one face collapse', () => {
  const t = new FaceTracker(opts);
  const dets = [box(0, 0, 50), box(100, 0, 150), box(300, 0, 100), box(500, 0, 80)].map((b) => ({ cropBox: b, score: 0.9 }));
  const c = t.candidates(dets);
  assert.ok(c.length <= opts.maxFaces + 2);
  const kept = t.update(c.map((cand) => ({ candidate: cand, meshScore: 0.99, meshBox: cand.cropBox })));
  assert.equal(kept.length, 2);
  assert.ok(kept[0].outcome.meshBox.x1 - kept[0].outcome.meshBox.x0 >= kept[1].outcome.meshBox.x1 - kept[1].outcome.meshBox.x0);
  const t2 = new FaceTracker(opts);
  const c2 = t2.candidates([{ cropBox: box(0, 0, 100), score: 0.9 }, { cropBox: box(60, 0, 100), score: 0.8 }]);
  const k2 = t2.update(c2.map((cand) => ({ candidate: cand, meshScore: 0.99, meshBox: box(20, 10, 80) })));
  assert.equal(k2.length, 1, 'two crops converging on one face give one track');
});

test('neutral baseline: prior until data, then the person\'s median shrunk towards the prior', () => {
  const prior = new Float32Array(GEOMETRY_LENGTH).fill(1);
  const b = new NeutralBaseline({ historyFrames: 5, priorWeightFrames: 5, prior });
  assert.equal(b.baseline()[0], 1);
  for (const v of [3, 3, 3, 3, 3]) b.push(new Float32Array(GEOMETRY_LENGTH).fill(v));
  assert.equal(b.baseline()[0], 2); // (5*1 + 5*3) / 10
  for (const v of [5, 5, 5]) b.push(new Float32Array(GEOMETRY_LENGTH).fill(v));
  assert.equal(b.frames(), 5, 'bounded history');
  assert.equal(b.baseline()[0], 3); // median of [5,5,5,3,3] = 5 -> (5 + 25) / 10
});

test('AU estimator: resting face -> no raw activation; a smile geometry -> AU12 only among mouth-corner AUs', () => {
  const scale = loadAuScale();
  const rest = scale.prior;
  const zero = rawActivations(rest, rest);
  assert.ok(zero.every((v) => v === 0));
  const smile = Float32Array.from(rest);
  smile[G.cornerElevation] += 0.05;
  smile[G.mouthWidth] += 0.08;
  const raw = rawActivations(smile, rest);
  const aus = scaleActivations(raw, scale);
  const restAus = scaleActivations(zero, scale);
  assert.ok(aus[8] > restAus[8] + 1, 'AU12_r');
  assert.equal(aus[10], restAus[10], 'AU15_r unchanged');
  for (let i = 0; i < 17; i++) assert.ok(aus[i] >= 0 && aus[i] <= 5);
});

test('expression map: 7 FER classes onto the 8 labels, calm = 0, sums to 1', () => {
  const p = mapExpression(Float32Array.from([0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1]));
  assert.equal(p.length, 8);
  assert.equal(p[EMOTIONS.indexOf('calm')], 0);
  assert.ok(Math.abs(p[EMOTIONS.indexOf('happy')] - 0.4) < 1e-6);
  assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-6);
  assert.throws(() => mapExpression(new Float32Array(8)));
});

test('clip labels from CREMA-D and MEAD names', () => {
  assert.deepEqual(parseClipLabel('x/1001_DFA_HAP_XX.flv'), { dataset: 'CREMA-D', speaker: '1001', source: 'HAP', emotion: 'happy' });
  assert.equal(parseClipLabel('W009_front_surprised_level3_001.mp4')?.emotion, 'surprised');
  assert.equal(parseClipLabel('W009_front_contempt_level3_001.mp4')?.emotion, null);
  assert.equal(parseClipLabel('holiday.mp4'), null);
});

test('config: picks the face section of an AppConfig, validates values', () => {
  assert.deepEqual(pickFaceConfig({ port: 1, face: { maxFaces: 3, other: 1 } }), { maxFaces: 3 });
  assert.deepEqual(pickFaceConfig({ server: { maxFrameBytes: 4096, port: 1 }, models: { workers: 3, video: { enabled: true, workers: 2 } } }), { maxFrameBytes: 4096, workers: 2 });
  assert.throws(() => resolveFaceConfig({ maxFaces: 0 }), /maxFaces/);
  assert.throws(() => resolveFaceConfig({ minMeshScore: 2 }), /minMeshScore/);
});
