import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { VideoAnalyzer } from '../../../src/contracts/models.js';
import { loadVideoAnalyzer } from '../../../src/face/index.js';

/** Driver state on committed real frames (CREMA-D 1001): closed eyes, open mouth, and the neutral frame rotated in the image plane. */
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/faces/cremad-1001-${name}.jpg`, import.meta.url));
let analyzer: VideoAnalyzer;
before(async () => {
  analyzer = await loadVideoAnalyzer({});
  assert.equal(analyzer.status().available, true, analyzer.status().error);
});
after(async () => {
  await analyzer?.dispose();
});

/** The driver state of a frame after 25 frames of `warm` (neutral: the person's open-eye reference is then their own). */
async function stateOf(frame: Buffer, warm = fixture('neutral')) {
  const s = analyzer.createStream();
  for (let k = 0; k < 25; k++) await s.analyze({ format: 'jpeg', width: 0, height: 0, payload: warm, ptsUs: k * 100_000 });
  const r = await s.analyze({ format: 'jpeg', width: 0, height: 0, payload: frame, ptsUs: 2_500_000 });
  s.dispose();
  assert.equal(r.faces.length, 1);
  return r.faces[0].driver!;
}

test('closed eyes and an open mouth on real frames move EAR and MAR the right way', async () => {
  const neutral = await stateOf(fixture('neutral'));
  const closed = await stateOf(fixture('eyes-closed'));
  const mouth = await stateOf(fixture('open-mouth'));
  const open = (s: typeof neutral) => (s.eyeOpenness.left + s.eyeOpenness.right) / 2;
  assert.ok(open(neutral) > 0.9, `neutral openness ${open(neutral)}`);
  // FaceMesh (no iris refinement) under-tracks closed lids: the closure is seen, not its full depth (docs/driver-state.md).
  assert.ok(open(closed) < open(neutral) - 0.15, `closed-eyes openness ${open(closed)} vs ${open(neutral)}`);
  assert.ok(mouth.mouthAspectRatio > neutral.mouthAspectRatio + 0.1, `MAR ${mouth.mouthAspectRatio} vs ${neutral.mouthAspectRatio}`);
});

test('head roll on the real frame rotated in the image plane: sign and magnitude within 10 degrees', async () => {
  const base = (await stateOf(fixture('neutral'))).headPose.rollDeg;
  for (const deg of [15, -15]) {
    // sharp rotates clockwise for positive angles; the canvas grows, the face stays whole.
    const rotated = await sharp(fixture('neutral')).rotate(deg, { background: '#000' }).jpeg().toBuffer();
    const roll = (await stateOf(rotated, rotated)).headPose.rollDeg - base;
    assert.ok(Math.abs(roll - deg) <= 10, `rotated ${deg}: roll ${roll.toFixed(1)}`);
  }
});
