import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VideoFaceStage } from '../../../src/streaming/video-face-stage.js';
import type { AuWindowSnapshot } from '../../../src/streaming/au-windower.js';
import { EMOTIONS, type Emotion } from '../../../src/protocol/labels.js';
import { loadConfig } from '../../../src/server/config.js';

const onehot = (label: Emotion, p: number): Float32Array => Float32Array.from(EMOTIONS, (e) => (e === label ? p : (1 - p) / (EMOTIONS.length - 1)));
const videoWindow = (expression: Float32Array): AuWindowSnapshot => ({
  window: { aus: new Float32Array(35), frames: 1 }, lastPtsUs: 0, expression, faces: { count: 1, trackIds: [1] }, analysisMs: 10, videoFrames: [],
});

test('video face stage: only windows of the server\'s video analysis; the configured mode decides', () => {
  const stage = new VideoFaceStage('expression', { halfLifeMs: 0, switchMargin: 0 });
  const clientAus: AuWindowSnapshot = { ...videoWindow(onehot('happy', 0.9)), faces: null };
  assert.equal(stage.posterior(clientAus, onehot('sad', 0.9), null, 0), null, 'client-sent AUs keep the trained heads');
  assert.equal(stage.posterior(null, null, null, 0), null);
  const r = stage.posterior(videoWindow(onehot('happy', 0.9)), onehot('sad', 0.9), new Float32Array(35), 500)!;
  assert.equal(r.label, 'happy');
  assert.equal(r.source, 'expression');
  assert.equal(new VideoFaceStage('au-model', { halfLifeMs: 0, switchMargin: 0 }).posterior(videoWindow(onehot('happy', 0.9)), onehot('sad', 0.9), null, 0)!.label, 'sad');
  // The pool without the AU model (it failed for this window) still answers from the other branches.
  assert.equal(new VideoFaceStage('pool', { halfLifeMs: 0, switchMargin: 0 }).posterior(videoWindow(onehot('happy', 0.9)), null, new Float32Array(35), 0)!.label, 'happy');
});

test('video face stage: the smoothed label does not flip on one odd window, and follows a lasting change', () => {
  const stage = new VideoFaceStage('expression', { halfLifeMs: 2000, switchMargin: 0.1 });
  let t = 0;
  const step = (label: Emotion) => stage.posterior(videoWindow(onehot(label, 0.8)), null, null, (t += 500))!;
  for (let i = 0; i < 10; i++) step('happy');
  const odd = step('surprised');
  assert.equal(odd.label, 'surprised', 'the raw label follows the window');
  assert.equal(odd.smoothed.label, 'happy', 'one odd window does not move the smoothed label');
  let last = odd;
  const flips: number[] = [];
  for (let i = 0; i < 12; i++) {
    const prev = last.smoothed.label;
    last = step('sad');
    if (last.smoothed.label !== prev) flips.push(i);
  }
  assert.equal(last.smoothed.label, 'sad');
  assert.equal(flips.length, 1, 'one clean switch, no back-and-forth');
  assert.ok(flips[0] >= 1 && flips[0] <= 6, `switched after ${flips[0] + 1} windows of sad (half-life 2 s, hop 0.5 s)`);
});

test('config: models.video.facePosterior and the face smoothing keys validate', () => {
  const c = loadConfig({ overrides: { models: { video: { facePosterior: 'facs', faceSmoothingHalfLifeMs: 0 } } } as never });
  assert.equal(c.models.video.facePosterior, 'facs');
  assert.equal(c.models.video.faceSmoothingHalfLifeMs, 0);
  assert.equal(loadConfig({}).models.video.facePosterior, 'pool');
  assert.throws(() => loadConfig({ overrides: { models: { video: { facePosterior: 'vibes' } } } as never }), /facePosterior/);
});
