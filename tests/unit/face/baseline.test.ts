import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AuEstimator } from '../../../src/face/au-estimator.js';
import { computeGeometry } from '../../../src/face/au-geometry.js';
import { loadAuScale } from '../../../src/face/au-scale.js';
import { facsPosterior } from '../../../src/face/facs-rules.js';
import { AU_INTENSITY_COLUMNS, EMOTIONS, type Emotion } from '../../../src/protocol/labels.js';

/** FaceMesh landmarks of a real neutral frame (CREMA-D 1001; tests/fixtures/faces/ATTRIBUTION.md). */
const NEUTRAL = Float32Array.from((JSON.parse(readFileSync(new URL('../../fixtures/faces/mesh-neutral-cremad-1001.json', import.meta.url), 'utf8')) as { mesh: number[] }).mesh);
const pt = (m: Float32Array, i: number): [number, number] => [m[i * 3], m[i * 3 + 1]];
const IOD = Math.hypot(
  (pt(NEUTRAL, 263)[0] + pt(NEUTRAL, 362)[0]) / 2 - (pt(NEUTRAL, 33)[0] + pt(NEUTRAL, 133)[0]) / 2,
  (pt(NEUTRAL, 263)[1] + pt(NEUTRAL, 362)[1]) / 2 - (pt(NEUTRAL, 33)[1] + pt(NEUTRAL, 133)[1]) / 2,
);
/** The neutral mesh with the mouth corners (61 subject's right, 291 left) moved by (outward, up) in IOD units. */
function mouthCorners(outward: number, up: number): Float32Array {
  const m = Float32Array.from(NEUTRAL);
  m[61 * 3] -= outward * IOD;
  m[291 * 3] += outward * IOD;
  m[61 * 3 + 1] -= up * IOD;
  m[291 * 3 + 1] -= up * IOD;
  return m;
}
/** A Duchenne smile: corners up and out (AU12) and the cheeks raised (AU06). */
const SMILE = (() => {
  const m = mouthCorners(0.05, 0.08);
  for (const i of [50, 118, 205, 280, 347, 425]) m[i * 3 + 1] -= 0.05 * IOD;
  return m;
})();
const SLIGHTLY_SAD = mouthCorners(0, -0.06);
const posterior = (label: Emotion, p: number): Float32Array => Float32Array.from(EMOTIONS, (e) => (e === label ? p : (1 - p) / (EMOTIONS.length - 1)));
const col = (au: string): number => AU_INTENSITY_COLUMNS.indexOf(`${au}_r` as (typeof AU_INTENSITY_COLUMNS)[number]);
/** The AU scale as shipped, with the population prior set to this neutral face (so the fixture is the population). */
const scale = { ...loadAuScale(), prior: computeGeometry(NEUTRAL)!.features };
const estimator = (pauseConfidence: number) => new AuEstimator(scale, { historyFrames: 300, priorWeightFrames: 10, pauseConfidence });
const label = (p: ArrayLike<number>): string => EMOTIONS[Array.from(p).indexOf(Math.max(...Array.from(p)))];

test('neutral baseline: a smile held 30 s (10 fps) keeps its AU06/AU12 and reads happy (FACS rules) to the end', () => {
  const gated = estimator(0.5);
  for (let i = 0; i < 50; i++) gated.estimate(NEUTRAL, posterior('neutral', 0.8)); // 5 s at rest first
  const first = gated.estimate(SMILE, posterior('happy', 0.9))!;
  let last = first;
  for (let i = 1; i < 300; i++) last = gated.estimate(SMILE, posterior('happy', 0.9))!;
  assert.ok(first.aus[col('AU12')] > 2 && first.aus[col('AU06')] > 1.5, `AU12 ${first.aus[col('AU12')]}, AU06 ${first.aus[col('AU06')]} at the start of the smile`);
  assert.ok(Math.abs(last.aus[col('AU12')] - first.aus[col('AU12')]) < 1e-3, `AU12 after 30 s ${last.aus[col('AU12')]} vs ${first.aus[col('AU12')]}`);
  assert.equal(label(facsPosterior(last.aus)), 'happy');
  assert.equal(gated.calibrationPausedFrames(), 300);
  // Before issue 20 (every frame enters the baseline) the same smile is absorbed: AU12 gone within 30 s.
  const absorbing = estimator(1);
  for (let i = 0; i < 50; i++) absorbing.estimate(NEUTRAL, posterior('neutral', 0.8));
  let old = absorbing.estimate(SMILE, posterior('happy', 0.9))!;
  for (let i = 1; i < 300; i++) old = absorbing.estimate(SMILE, posterior('happy', 0.9))!;
  assert.ok(old.aus[col('AU12')] < 0.2 * first.aus[col('AU12')], `ungated AU12 after 30 s ${old.aus[col('AU12')]}`);
});

test('neutral baseline: a resting face that reads slightly sad against the population is corrected within 10 s of neutral-looking frames', () => {
  const est = estimator(0.5);
  // The expression net sees this person's resting face as mostly neutral (a sad class below the pause confidence).
  const seen = posterior('neutral', 0.55);
  seen[EMOTIONS.indexOf('sad')] = 0.3;
  const start = est.estimate(SLIGHTLY_SAD, seen)!;
  assert.ok(start.aus[col('AU15')] >= scale.threshold[col('AU15')], `AU15 at start ${start.aus[col('AU15')]} (present from ${scale.threshold[col('AU15')]})`);
  assert.ok(facsPosterior(start.aus)[EMOTIONS.indexOf('sad')] > facsPosterior(ausAgainstPrior(NEUTRAL))[EMOTIONS.indexOf('sad')]);
  let after = start;
  for (let i = 1; i <= 100; i++) after = est.estimate(SLIGHTLY_SAD, seen)!; // 10 s at 10 fps
  const rest = scale.offset[col('AU15')];
  assert.ok(after.aus[col('AU15')] - Math.max(0, rest) < 0.25 * (start.aus[col('AU15')] - Math.max(0, rest)), `AU15 after 10 s ${after.aus[col('AU15')]} (start ${start.aus[col('AU15')]}, rest ${rest})`);
  assert.equal(after.aus[AU_INTENSITY_COLUMNS.length + col('AU15')], 0, 'AU15 presence off after 10 s');
});

/** AUs of a mesh against the population prior alone (a fresh track's first frame). */
function ausAgainstPrior(mesh: Float32Array): Float32Array {
  return estimator(0.5).estimate(mesh)!.aus;
}
