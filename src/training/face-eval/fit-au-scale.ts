/**
 * Fits src/face/au-scale.json, the constants that put the geometric AUs on OpenFace's scale:
 *   1. runs the face pipeline (detector + FaceMesh + expression net, in-process) over the labelled talking-face clips
 *      in ../shared/faces at 10 fps (cached in the OS temp folder: src/training/face-transfer/frame-cache.ts);
 *   2. prior = mean geometry of the neutral clips' frames (the population's resting face for calibration);
 *   3. replays every clip through the per-track calibration exactly as a session would (frames with a confident
 *      expression kept out of the baseline) and collects raw activations;
 *   4-5. moment matching to OpenFace 2.0's RAVDESS clip means (src/training/face-eval/au-scale-fit.ts).
 * Run: node --import tsx src/training/face-eval/fit-au-scale.ts [../shared]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrBuildFrameCache } from '../face-transfer/frame-cache.js';
import { clipGeometry } from '../face-transfer/clip-geometry.js';
import { AU_SCALE_PATH } from '../../face/au-scale.js';
import { fitAuScaleJson, meanGeometry, readOpenFaceTargets } from './au-scale-fit.js';
import { DEFAULT_FACE_CONFIG } from '../../face/config.js';

const shared = process.argv[2] ?? new URL('../../../../shared', import.meta.url).pathname;
const calibration = {
  historyFrames: DEFAULT_FACE_CONFIG.calibrationHistoryFrames,
  priorWeightFrames: DEFAULT_FACE_CONFIG.calibrationPriorFrames,
  pauseConfidence: DEFAULT_FACE_CONFIG.calibrationPauseConfidence,
};
const cache = await loadOrBuildFrameCache(join(tmpdir(), 'emostream-face-frames-10fps.json'), join(shared, 'faces'), 10, (l) => process.stderr.write(l + '\n'));
const clips = cache.clips.map((c) => clipGeometry(c, calibration.pauseConfidence));
const prior = meanGeometry(clips.filter((c) => c.label.emotion === 'neutral').flatMap((c) => c.features));
const frames = clips.reduce((s, c) => s + c.features.length, 0);
const out = fitAuScaleJson(clips, prior, calibration, readOpenFaceTargets(shared),
  `fit-au-scale.ts on ${clips.length} clips (${frames} frames) of ../shared/faces (CREMA-D 1001, MEAD W009/W011), targets OpenFace 2.0 RAVDESS clip means, ${new Date().toISOString().slice(0, 10)}`);
writeFileSync(AU_SCALE_PATH, JSON.stringify(out, null, 1) + '\n');
process.stderr.write(`wrote ${AU_SCALE_PATH.pathname}\n`);
