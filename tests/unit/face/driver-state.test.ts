import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { computeGeometry } from '../../../src/face/au-geometry.js';
import { DriverStateTracker, EYE_POINTS, eyeAspectRatio, mouthAspectRatio } from '../../../src/face/driver-state.js';

/** FaceMesh landmarks of a real neutral frame (CREMA-D 1001; tests/fixtures/faces/ATTRIBUTION.md). */
const NEUTRAL = Float32Array.from((JSON.parse(readFileSync(new URL('../../fixtures/faces/mesh-neutral-cremad-1001.json', import.meta.url), 'utf8')) as { mesh: number[] }).mesh);

/** The neutral mesh with both upper lids moved `closure` (0 open .. 1 shut) of the way onto the lower lids. */
function eyes(closure: number, m = Float32Array.from(NEUTRAL)): Float32Array {
  for (const p of [EYE_POINTS.right, EYE_POINTS.left]) {
    for (const [up, low] of [[p[1], p[5]], [p[2], p[4]]]) {
      for (let k = 0; k < 3; k++) m[up * 3 + k] += closure * (NEUTRAL[low * 3 + k] - NEUTRAL[up * 3 + k]);
    }
  }
  return m;
}
/** The mesh with the inner lower lip (14) dropped so the mouth aspect ratio is `mar`. */
function mouth(mar: number, m: Float32Array): Float32Array {
  const width = Math.hypot(m[61 * 3] - m[291 * 3], m[61 * 3 + 1] - m[291 * 3 + 1], m[61 * 3 + 2] - m[291 * 3 + 2]);
  m[14 * 3] = m[13 * 3];
  m[14 * 3 + 1] = m[13 * 3 + 1] + mar * width;
  m[14 * 3 + 2] = m[13 * 3 + 2];
  return m;
}
/** Rotates a mesh about its centroid: yaw about the image's vertical axis, pitch about the horizontal, roll in the image plane (radians). */
function rotate(m: Float32Array, yaw: number, pitch: number, roll: number): Float32Array {
  const n = m.length / 3;
  const c = [0, 1, 2].map((k) => Array.from({ length: n }, (_, i) => m[i * 3 + k]).reduce((a, b) => a + b, 0) / n);
  const out = new Float32Array(m.length);
  for (let i = 0; i < n; i++) {
    let x = m[i * 3] - c[0], y = m[i * 3 + 1] - c[1], z = m[i * 3 + 2] - c[2];
    [x, z] = [x * Math.cos(yaw) + z * Math.sin(yaw), -x * Math.sin(yaw) + z * Math.cos(yaw)];
    [y, z] = [y * Math.cos(pitch) - z * Math.sin(pitch), y * Math.sin(pitch) + z * Math.cos(pitch)];
    [x, y] = [x * Math.cos(roll) - y * Math.sin(roll), x * Math.sin(roll) + y * Math.cos(roll)];
    out[i * 3] = x + c[0]; out[i * 3 + 1] = y + c[1]; out[i * 3 + 2] = z + c[2];
  }
  return out;
}
const pose = (m: Float32Array) => computeGeometry(m)!.pose;

test('EAR and MAR on the synthetic meshes: EAR falls in proportion to the closure, MAR is as set', () => {
  const open = eyeAspectRatio(NEUTRAL, EYE_POINTS.left);
  assert.ok(open > 0.15 && open < 0.45, `open EAR ${open}`);
  assert.ok(Math.abs(eyeAspectRatio(eyes(0.5), EYE_POINTS.left) - open / 2) < 0.02 * open);
  assert.ok(eyeAspectRatio(eyes(1), EYE_POINTS.right) < 1e-3);
  assert.ok(Math.abs(mouthAspectRatio(mouth(0.8, Float32Array.from(NEUTRAL))) - 0.8) < 1e-3);
});

test('driver state on a scripted minute at 10 fps: blinks, blink duration, PERCLOS and yawns exact', () => {
  const t = new DriverStateTracker();
  const frames: { mesh: Float32Array; closed: boolean }[] = [];
  const open = eyes(0), shut = eyes(0.95);
  // 600 frames: 12 blinks of 2 frames (200 ms) at frames 30, 75, ...; one 2 s closure at 400-419 (not a blink);
  // yawns (MAR 0.8 for 2 s) at 200-219 and 500-519; a 0.5 s wide mouth while talking at 300-304 (not a yawn).
  const blinkStarts = Array.from({ length: 13 }, (_, k) => 30 + k * 30).filter((f) => f < 400 && !(f >= 200 && f < 220));
  assert.equal(blinkStarts.length, 12);
  for (let f = 0; f < 600; f++) {
    const blink = blinkStarts.some((s) => f >= s && f < s + 2);
    const closure = f >= 400 && f < 420;
    let m: Float32Array = Float32Array.from(blink || closure ? shut : open);
    if ((f >= 200 && f < 220) || (f >= 500 && f < 520)) m = mouth(0.8, m);
    if (f >= 300 && f < 305) m = mouth(0.7, m);
    frames.push({ mesh: m, closed: blink || closure });
  }
  let yawningFrames = 0;
  frames.forEach(({ mesh }, f) => {
    t.update(mesh, pose(mesh), f * 100);
    if (t.state()!.yawning) yawningFrames++;
  });
  const s = t.state()!;
  assert.equal(s.blinks, 12);
  assert.equal(s.meanBlinkMs, 200);
  // Observed 59.9 s (frame 0 to frame 599), every blink inside it.
  assert.equal(s.perclosWindowMs, 59_900);
  assert.ok(Math.abs(s.blinksPerMinute - 12 / (59.9 / 60)) < 0.01, `blinks/min ${s.blinksPerMinute}`);
  // Closed time: 12 x 200 ms + 2000 ms of the 59.9 s observed.
  assert.ok(Math.abs(s.perclos - 4400 / 59_900) < 1e-3, `PERCLOS ${s.perclos}`);
  assert.equal(s.yawns, 2);
  assert.equal(yawningFrames, 2 * 5, 'yawning from 1.5 s into each 2 s opening');
  assert.equal(s.eyesClosed, false);
});

test('driver state: PERCLOS covers the last 60 s only; a still photo (no blinks) reports 0 blinks, no crash', () => {
  const t = new DriverStateTracker();
  const shut = eyes(0.95), open = eyes(0);
  for (let f = 0; f < 300; f++) t.update(shut, pose(shut), f * 100); // 30 s closed (photo of closed eyes)
  assert.equal(t.state()!.eyesClosed, true);
  assert.equal(t.state()!.perclos, 1);
  for (let f = 300; f < 1200; f++) t.update(open, pose(open), f * 100); // then 90 s open
  const s = t.state()!;
  assert.equal(s.perclos, 0, 'the closure left the 60 s window');
  assert.equal(s.blinks, 0, 'a 30 s closure is not a blink');
  assert.equal(s.blinksPerMinute, 0);
  assert.equal(s.meanBlinkMs, null);
});

test('head pose: sign and magnitude within 10 degrees on rotated meshes', () => {
  const base = pose(NEUTRAL);
  const deg = (r: number) => (r * 180) / Math.PI;
  for (const [yaw, pitch, roll] of [[20, 0, 0], [-25, 0, 0], [0, 15, 0], [0, -15, 0], [0, 0, 20], [0, 0, -10]]) {
    const t = new DriverStateTracker();
    const m = rotate(NEUTRAL, (yaw * Math.PI) / 180, (pitch * Math.PI) / 180, (roll * Math.PI) / 180);
    t.update(m, pose(m), 0);
    const s = t.state()!.headPose;
    const rel = { yaw: s.yawDeg - deg(base.yaw), pitch: s.pitchDeg - deg(base.pitch), roll: s.rollDeg - deg(base.roll) };
    assert.ok(Math.abs(rel.yaw - yaw) <= 10, `yaw ${yaw}: measured ${rel.yaw.toFixed(1)}`);
    assert.ok(Math.abs(rel.pitch - pitch) <= 10, `pitch ${pitch}: measured ${rel.pitch.toFixed(1)}`);
    assert.ok(Math.abs(rel.roll - roll) <= 10, `roll ${roll}: measured ${rel.roll.toFixed(1)}`);
  }
});
