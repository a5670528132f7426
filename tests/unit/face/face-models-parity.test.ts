import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REFERENCE_PATH, stageOutputs, type StageOutput } from './stage-outputs.js';

/**
 * Speed work on the face stage must not change what it computes: landmarks, FaceMesh score, expression posterior and
 * AUs on the committed test frames against the reference written by bench/face-stage-reference.ts before the change.
 * Tolerances: float32 arithmetic done in another order may differ in the last bits (a few 1e-7 relative); the
 * bounds below are far under anything a result could show (AUs are reported to 0.01, posteriors to 1e-3).
 */
const MESH_PX = 1e-3;
const PROB = 1e-5;
const AU = 1e-3;

const maxAbsDiff = (a: number[], b: number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('face stage parity: landmarks, scores, expression posteriors and AUs equal the committed reference', async (t) => {
  if (!existsSync(REFERENCE_PATH)) return t.skip('tests/fixtures/faces/stage-reference.json absent');
  const reference = (JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as { frames: StageOutput[] }).frames;
  const now = await stageOutputs();
  assert.deepEqual(now.map((f) => f.frame), reference.map((f) => f.frame));
  for (const [i, ref] of reference.entries()) {
    const cur = now[i];
    assert.ok(maxAbsDiff(cur.mesh, ref.mesh) <= MESH_PX, `${ref.frame}: landmarks differ by ${maxAbsDiff(cur.mesh, ref.mesh)} px`);
    assert.ok(Math.abs(cur.score - ref.score) <= PROB, `${ref.frame}: score ${cur.score} vs ${ref.score}`);
    assert.ok(maxAbsDiff(cur.expression7, ref.expression7) <= PROB, `${ref.frame}: expression differs by ${maxAbsDiff(cur.expression7, ref.expression7)}`);
    assert.ok(maxAbsDiff(cur.aus, ref.aus) <= AU, `${ref.frame}: AUs differ by ${maxAbsDiff(cur.aus, ref.aus)}`);
  }
});
