/**
 * Writes tests/fixtures/faces/stage-reference.json: the face stage's landmarks, FaceMesh score, expression posterior
 * and AUs on every committed test frame, for the parity test (tests/unit/face/face-models-parity.test.ts) that keeps
 * speed work from changing results. Regenerate only when a change is meant to change results, and say so.
 * Run: node --import tsx bench/face-stage-reference.ts
 */
import { writeFileSync } from 'node:fs';
import { REFERENCE_PATH, stageOutputs } from '../tests/unit/face/stage-outputs.js';

const outputs = await stageOutputs();
writeFileSync(REFERENCE_PATH, JSON.stringify({ generatedBy: 'bench/face-stage-reference.ts', frames: outputs }) + '\n');
console.log(`${outputs.length} frames -> ${REFERENCE_PATH}`);
