import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFusion, createFusion } from '../../../src/models/fusion/index.js';
import type { FusionHeadParams } from '../../../src/models/fusion/head.js';

const uniformNorm = (d: number) => ({ min: new Array(d).fill(0), max: new Array(d).fill(1) });

/** A head whose logits are the sum of its inputs' k-th values (identity weights), so the expected output is known. */
function sumHead(inputs: string[]): FusionHeadParams {
  const d = inputs.length * 8;
  return {
    name: inputs.join('+'), inputs, normaliser: uniformNorm(d),
    weights: Array.from({ length: 8 }, (_, k) => Array.from({ length: d }, (_, j) => (j % 8 === k ? 1 : 0))), bias: new Array(8).fill(0),
  };
}

test('fuse picks the head for the present subset and computes softmax(W·minmax(x) + b)', () => {
  const f = createFusion([sumHead(['speech']), sumHead(['face']), sumHead(['speech', 'face'])], 'mem');
  const s = Float32Array.from([2, 0, 0, 0, 0, 0, 0, 0]);
  const fa = Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0]);
  const both = f.fuse({ speech: s, face: fa });
  assert.equal(both.head, 'speech+face');
  const z = [2, 1, 0, 0, 0, 0, 0, 0].map(Math.exp);
  const sum = z.reduce((a, b) => a + b, 0);
  both.probs.forEach((p, k) => assert.ok(Math.abs(p - z[k] / sum) < 1e-6));
  assert.equal(f.fuse({ face: fa, speech: null }).head, 'face');
  assert.equal(f.fuse({ speech: s, expression: fa }).head, 'speech'); // no head takes expression: ignored
  const none = f.fuse({});
  assert.equal(none.head, 'none');
  // A malformed input is treated as absent and counted.
  assert.equal(f.fuse({ speech: Float32Array.from([NaN, 0, 0, 0, 0, 0, 0, 0]), face: fa }).head, 'face');
  assert.equal(f.fuse({ speech: new Float32Array(3), face: fa }).head, 'face');
  assert.equal(f.status().details?.invalidInputsIgnored, 2);
});

test('a log-posteriors head takes the floored log of each input before the min-max', () => {
  const head = { ...sumHead(['face']), features: 'log-posteriors' as const };
  const f = createFusion([head], 'mem');
  const face = Float32Array.from([0.5, 0.25, 0, 0.25, 0, 0, 0, 0]);
  const z = Array.from(face, (v) => Math.log(Math.max(v, 1e-6))).map(Math.exp); // softmax(log p) = p after flooring
  const sum = z.reduce((a, b) => a + b, 0);
  f.fuse({ face }).probs.forEach((p, k) => assert.ok(Math.abs(p - z[k] / sum) < 1e-6));
});

test('loadFusion never throws: missing, corrupt and malformed files give available:false with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusion-rt-'));
  let f = await loadFusion({ dir: join(dir, 'absent') });
  assert.equal(f.status().available, false);
  assert.match(f.status().error!, /fusion\.json: fusion heads not found/);
  // Still answers (uncalibrated mean) so a session keeps going.
  const r = f.fuse({ speech: Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]), face: Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0]) });
  assert.equal(r.head, 'fallback-mean');
  assert.deepEqual(Array.from(r.probs.slice(0, 2)), [0.5, 0.5]);
  writeFileSync(join(dir, 'fusion.json'), '{"format": ');
  f = await loadFusion({ dir });
  assert.match(f.status().error!, /not valid JSON/);
  const labels = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
  const bad = sumHead(['speech']);
  bad.weights[3] = [1, 2];
  writeFileSync(join(dir, 'fusion.json'), JSON.stringify({ format: 'emostream-fusion/1', labels, heads: [bad] }));
  f = await loadFusion({ dir });
  assert.match(f.status().error!, /heads\[0\]: head 'speech': weights row 3 must hold 8 finite numbers/);
  writeFileSync(join(dir, 'fusion.json'), JSON.stringify({ format: 'emostream-fusion/1', labels: [...labels].reverse(), heads: [sumHead(['speech'])] }));
  f = await loadFusion({ dir });
  assert.match(f.status().error!, /labels must be neutral,calm/);
  writeFileSync(join(dir, 'fusion.json'), JSON.stringify({ format: 'emostream-fusion/1', labels, heads: [{ ...sumHead(['face']), features: 'sqrt' }] }));
  f = await loadFusion({ dir });
  assert.match(f.status().error!, /head 'face': features must be 'posteriors' or 'log-posteriors'/);
  writeFileSync(join(dir, 'fusion.json'), JSON.stringify({ format: 'emostream-fusion/1', labels, heads: [sumHead(['voice'])] }));
  f = await loadFusion({ dir });
  assert.match(f.status().error!, /unknown input 'voice'/);
});

test('the shipped models/fusion/fusion.json, when present, loads and fuses', { skip: existsSync('models/fusion/fusion.json') ? false : 'models/fusion not shipped yet' }, async () => {
  const f = await loadFusion({});
  assert.equal(f.status().available, true, f.status().error);
  const face = Float32Array.from([0.05, 0.05, 0.6, 0.05, 0.05, 0.1, 0.05, 0.05]);
  const r = f.fuse({ face });
  assert.ok(r.head.includes('face'));
  assert.ok(Math.abs(r.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
});
