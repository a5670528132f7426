import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MEL_CONFIG } from '../../../src/features/mel-config.js';
import { frameCount, logMelFrames } from '../../../src/features/mel.js';
import { pitchFrames, pitchFrameCount, DEFAULT_PITCH_CONFIG } from '../../../src/features/pitch.js';
import { FUNCTIONAL_COUNT, VOICE_QUALITY_COUNT, SPECTRO_TEMPORAL_COUNT, SPECTRO_TEMPORAL_CEPSTRA, SHAPE_COUNT, FunctionalStatsAccumulator, normaliseFunctionals, rawFunctionalCount, windowFunctionals } from '../../../src/features/functionals.js';
import { FeatureSpeechStream } from '../../../src/models/speech/feature-stream.js';
import { actorFunctionalStats, windowFunctionalsAt } from '../../../src/training/speech/functional-data.js';
import { priorStats, type SpeechItem } from '../../../src/training/speech/dataset.js';
import { speechLikeSignal } from '../../helpers/synthetic.js';

const bands = DEFAULT_MEL_CONFIG.melBands;
// Offsets of the groups in the functionals vector.
const ENERGY = 3 * bands, PITCH = 3 * bands + 9;

test('functionals of a known window: band means/stds, energy percentiles and slope, pitch statistics and voicing', () => {
  const T = 100;
  const win = new Float32Array(T * bands);
  // Band b: constant b / 10 plus, in band 0 only, an alternating +-1 (std 1, first-difference std ~2).
  for (let t = 0; t < T; t++) for (let b = 0; b < bands; b++) win[t * bands + b] = b / 10 + (b === 0 ? (t % 2 ? 1 : -1) : 0);
  // Pitch: rising 1 semitone per 10 frames (10 st/s) on the first half, unvoiced after.
  const st = Float32Array.from({ length: T }, (_, t) => (t < 50 ? t / 10 : NaN));
  const out = new Float32Array(FUNCTIONAL_COUNT + 2).fill(-99);
  windowFunctionals(win, st, T, bands, out, 1);
  assert.equal(out[0], -99);
  assert.equal(out[FUNCTIONAL_COUNT + 1], -99);
  const f = out.subarray(1, 1 + FUNCTIONAL_COUNT);
  assert.ok(Math.abs(f[0]) < 1e-6 && Math.abs(f[5] - 0.5) < 1e-6); // band means
  assert.ok(Math.abs(f[bands] - 1) < 1e-6 && f[bands + 5] < 1e-6); // band stds
  assert.ok(Math.abs(f[2 * bands] - 2) < 1e-6 && f[2 * bands + 5] < 1e-6); // first-difference stds
  const meanEnergy = (39 * 40) / 2 / 10 / bands;
  assert.ok(Math.abs(f[ENERGY] - meanEnergy) < 1e-5);
  assert.ok(Math.abs(f[ENERGY + 5]) < 0.01, 'no energy slope (the alternation gives ~0.0015 / s)');
  assert.ok(Math.abs(f[PITCH] - 0.5) < 1e-9, 'voiced fraction');
  assert.ok(Math.abs(f[PITCH + 1] - 2.45) < 1e-5, 'pitch mean');
  assert.ok(Math.abs(f[PITCH + 6] - 10) < 1e-4, 'pitch slope in semitones per second');
  assert.ok(Math.abs(f[PITCH + 7] - 0.1) < 1e-6, 'mean frame-to-frame change');
  // Fewer than 3 voiced frames: pitch statistics are 0, only the voiced fraction is kept.
  windowFunctionals(win, new Float32Array(T).fill(NaN), T, bands, out, 0);
  assert.ok(out.subarray(PITCH, FUNCTIONAL_COUNT).every((v) => v === 0));
  assert.ok(out.subarray(0, FUNCTIONAL_COUNT).every(Number.isFinite));
});


test('server-side functionals equal training functionals: incremental stream with pitch (odd chunks) = batch pitch + log-mel', () => {
  const prior = { mean: Float32Array.from({ length: bands }, (_, b) => -8 + b * 0.05), std: Float32Array.from({ length: bands }, (_, b) => 2 + b * 0.01) };
  const priorLog2Hz = Math.log2(130);
  // A gate no frame passes and a pitch prior of huge weight keep both running references at their priors, so both paths
  // normalise identically.
  const stream = new FeatureSpeechStream({
    mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300,
    pitch: { config: DEFAULT_PITCH_CONFIG, priorLog2Hz, priorWeightFrames: 1e15 },
  });
  for (const [seconds, endAt] of [[4.2, 0], [1.7, 1]] as const) {
    stream.reset();
    const audio = speechLikeSignal(seconds, endAt + 3);
    let at = 0;
    for (const size of [1, 111, 159, 160, 401, 7999, 3, 20000]) { stream.push(audio.subarray(at, at + size)); at += size; }
    stream.push(audio.subarray(at));
    const n = frameCount(audio.length);
    const w = stream.window(audio.length, 48000);
    assert.ok(w?.functionals, 'a stream with pitch hands out functionals');
    const expected = new Float32Array(FUNCTIONAL_COUNT);
    windowFunctionalsAt(logMelFrames(audio), pitchFrames(audio, DEFAULT_MEL_CONFIG), prior, priorLog2Hz, n, 300, expected, 0);
    let maxDiff = 0;
    for (let i = 0; i < FUNCTIONAL_COUNT; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - w.functionals[i]));
    assert.ok(maxDiff < 1e-4, `${seconds} s: max difference ${maxDiff}`);
    assert.ok(expected[PITCH] > 0.3, 'the synthetic voice is mostly voiced');
  }
  // Without `pitch` the stream is unchanged (no functionals, same features).
  const plain = new FeatureSpeechStream({ mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300 });
  const audio = speechLikeSignal(3.5);
  plain.push(audio);
  stream.reset();
  stream.push(audio);
  const a = plain.window(audio.length, 48000)!, b = stream.window(audio.length, 48000)!;
  assert.equal(a.functionals, undefined);
  assert.deepEqual(a.features, b.features);
});

test('functional statistics: accumulator = batch mean / population std (floored), prior counts as windows; per-actor stats and their prior', () => {
  const dims = 3;
  const rows = [[1, 5, 7], [3, 5, 7], [8, 5, 7]];
  const acc = new FunctionalStatsAccumulator(dims);
  assert.throws(() => acc.stats(), /no window and no prior/);
  for (const r of rows) acc.add(r);
  const st = acc.stats();
  assert.ok(Math.abs(st.mean[0] - 4) < 1e-6 && Math.abs(st.std[0] - Math.sqrt(26 / 3)) < 1e-6);
  assert.equal(st.std[1], Math.fround(1e-3), 'a constant functional gets the floor, not 0');
  // A prior of weight 2 with mean 0 / std 1 acts like 2 windows at mean 0 with that spread.
  const seeded = new FunctionalStatsAccumulator(dims, { stats: { mean: new Float32Array(dims), std: new Float32Array(dims).fill(1) }, weightWindows: 2 });
  seeded.add([3, 3, 3]);
  assert.equal(seeded.windows, 3);
  const s2 = seeded.stats();
  assert.ok(Math.abs(s2.mean[0] - 1) < 1e-6 && Math.abs(s2.std[0] - Math.sqrt((2 + (2 / 3) * 9) / 3)) < 1e-6);
  const out = new Float32Array(dims + 1);
  normaliseFunctionals([4, 5, 7], st, out, 1);
  assert.ok(out[0] === 0 && Math.abs(out[1]) < 1e-6 && Math.abs(out[2]) < 1e-6);
  assert.throws(() => new FunctionalStatsAccumulator(2, { stats: st, weightWindows: 1 }), /expected 2 values/);
  // Per actor over all of their rows; the prior averages the actors' means and stds.
  const items = [{ actor: 1 }, { actor: 1 }, { actor: 2 }] as unknown as SpeechItem[];
  const raw = new Map<SpeechItem, Float32Array>([[items[0], Float32Array.from([1, 5, 7, 3, 5, 7])], [items[1], Float32Array.from([8, 5, 7])], [items[2], Float32Array.from([0, 0, 0])]]);
  const per = actorFunctionalStats(items, raw, dims);
  assert.deepEqual(per.get(1), st);
  const prior = priorStats(per, [1, 2]);
  assert.ok(Math.abs(prior.mean[0] - 2) < 1e-6 && Math.abs(prior.std[0] - (st.std[0] + 1e-3) / 2) < 1e-6);
  assert.throws(() => priorStats(per, [3]), /actor 3/);
});

test('server-side speaker-normalised functionals: [raw, z] with running statistics over each new, non-silent window end (prior first)', () => {
  const prior = { mean: Float32Array.from({ length: bands }, (_, b) => -8 + b * 0.05), std: Float32Array.from({ length: bands }, (_, b) => 2 + b * 0.01) };
  const fPrior = { mean: Float32Array.from({ length: FUNCTIONAL_COUNT }, (_, d) => Math.cos(d)), std: Float32Array.from({ length: FUNCTIONAL_COUNT }, (_, d) => 0.5 + (d % 7) / 7) };
  const opts = {
    mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: -14, prior, priorWeightFrames: 300,
    pitch: { config: DEFAULT_PITCH_CONFIG, priorLog2Hz: Math.log2(130), priorWeightFrames: 150 },
  };
  const stream = new FeatureSpeechStream({ ...opts, pitch: { ...opts.pitch, speakerNorm: { prior: fPrior, weightWindows: 4, keepRaw: true } } });
  // Without keepRaw the vector is the normalised half alone.
  const zOnly = new FeatureSpeechStream({ ...opts, pitch: { ...opts.pitch, speakerNorm: { prior: fPrior, weightWindows: 4, keepRaw: false } } });
  const rawStream = new FeatureSpeechStream(opts);
  const audio = speechLikeSignal(6, 5);
  const replay = new FunctionalStatsAccumulator(FUNCTIONAL_COUNT, { stats: fPrior, weightWindows: 4 });
  const expected = new Float32Array(2 * FUNCTIONAL_COUNT);
  let checked = 0;
  for (let end = 8000; end <= audio.length; end += 8000) {
    stream.push(audio.subarray(end - 8000, end));
    rawStream.push(audio.subarray(end - 8000, end));
    zOnly.push(audio.subarray(end - 8000, end));
    const w = stream.window(end, 48000)!;
    const z = zOnly.window(end, 48000)!.functionals!;
    const raw = rawStream.window(end, 48000)!.functionals!;
    assert.equal(w.functionals!.length, 2 * FUNCTIONAL_COUNT);
    assert.ok(w.activeFrames > 0);
    // The raw half is exactly what a stream without normalisation hands out (tested equal to training above).
    assert.deepEqual(w.functionals!.subarray(0, FUNCTIONAL_COUNT), raw);
    replay.add(raw);
    expected.set(raw);
    normaliseFunctionals(raw, replay.stats(), expected, FUNCTIONAL_COUNT);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - w.functionals![i]));
    assert.ok(maxDiff < 1e-4, `window ending at ${end}: max difference ${maxDiff}`);
    assert.deepEqual(z, w.functionals!.slice(FUNCTIONAL_COUNT));
    // Asking for the same window again neither counts it twice nor changes the answer.
    assert.deepEqual(stream.window(end, 48000)!.functionals, w.functionals);
    checked++;
  }
  assert.equal(checked, 12);
  // Silence: the window is handed out but leaves the statistics alone; reset() returns to the prior.
  stream.reset();
  stream.push(new Float32Array(48000));
  const silent = stream.window(48000, 48000)!;
  assert.equal(silent.activeFrames, 0);
  const atPrior = new Float32Array(2 * FUNCTIONAL_COUNT);
  atPrior.set(silent.functionals!.subarray(0, FUNCTIONAL_COUNT));
  normaliseFunctionals(silent.functionals!, new FunctionalStatsAccumulator(FUNCTIONAL_COUNT, { stats: fPrior, weightWindows: 4 }).stats(), atPrior, FUNCTIONAL_COUNT);
  for (let i = 0; i < atPrior.length; i++) assert.ok(Math.abs(atPrior[i] - silent.functionals![i]) < 1e-5);
});

/**
 * The incremental stream (odd chunk sizes, two clips through one stream) against the training path on the same audio:
 * voice quality on, plus the optional groups; returns each clip's training-side vector for the caller's checks.
 */
function streamEqualsTraining(groups: { spectroTemporal?: boolean; shape?: boolean }): Float32Array[] {
  const prior = { mean: Float32Array.from({ length: bands }, (_, k) => -8 + k * 0.05), std: Float32Array.from({ length: bands }, (_, k) => 2 + k * 0.01) };
  const priorLog2Hz = Math.log2(130);
  const D = rawFunctionalCount(true, groups.spectroTemporal ?? false, groups.shape ?? false);
  const stream = new FeatureSpeechStream({
    mel: DEFAULT_MEL_CONFIG, windowFrames: 300, activityGate: 1e9, prior, priorWeightFrames: 300,
    pitch: { config: DEFAULT_PITCH_CONFIG, priorLog2Hz, priorWeightFrames: 1e15, voiceQuality: true, ...groups },
  });
  const extras: Float32Array[] = [];
  for (const [seconds, seed] of [[4.2, 7], [1.7, 8]] as const) {
    stream.reset();
    const audio = speechLikeSignal(seconds, seed);
    let at = 0;
    for (const size of [1, 111, 159, 160, 401, 7999, 3, 20000]) { stream.push(audio.subarray(at, at + size)); at += size; }
    stream.push(audio.subarray(at));
    const n = pitchFrameCount(audio.length, DEFAULT_MEL_CONFIG);
    const tracks = { aperiodicity: new Float32Array(n), minCmnd: new Float32Array(n) };
    const hz = pitchFrames(audio, DEFAULT_MEL_CONFIG, DEFAULT_PITCH_CONFIG, tracks);
    const w = stream.window(audio.length, 48000)!;
    assert.equal(w.functionals!.length, D);
    const expected = new Float32Array(D);
    windowFunctionalsAt(logMelFrames(audio), hz, prior, priorLog2Hz, frameCount(audio.length), 300, expected, 0, undefined, tracks,
      groups.spectroTemporal ?? false, groups.shape ?? false);
    let maxDiff = 0;
    for (let i = 0; i < D; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - w.functionals![i]));
    assert.ok(maxDiff < 1e-4, `${seconds} s: max difference ${maxDiff}`);
    extras.push(expected);
  }
  return extras;
}

test('voice-quality functionals: known window values; the incremental stream equals training (odd chunks, padded window) within 1e-4', () => {
  const T = 4, b = 2;
  // Frames: energy 0, 1, 3, 3 (band values equal); voiced frames 1-3; flux = positive rises 1, 2, 0.
  const win = Float32Array.from([0, 0, 1, 1, 3, 3, 3, 3]);
  const st = Float32Array.from([NaN, 0, 1, 2]);
  const voice = { aperiodicity: Float32Array.from([NaN, 0.1, 0.2, 0.3]), minCmnd: Float32Array.from([NaN, 0.1, 0.2, 0.3]) };
  const out = new Float32Array(FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT);
  // The base set is written for 40 bands; use a 40-band window whose first two bands carry the pattern.
  const wide = new Float32Array(T * bands);
  for (let t = 0; t < T; t++) for (let k = 0; k < bands; k++) wide[t * bands + k] = win[t * b];
  windowFunctionals(wide, st, T, bands, out, 0, voice);
  const vq = out.subarray(FUNCTIONAL_COUNT);
  assert.ok(Math.abs(vq[0] - 0.2) < 1e-6 && Math.abs(vq[1] - Math.sqrt(2 / 300)) < 1e-6, 'aperiodicity mean / std over voiced frames');
  assert.ok(Math.abs(vq[2] - 0.2) < 1e-6, 'CMND minimum over audio frames (padded NaN skipped)');
  assert.ok(Math.abs(vq[3] - 1) < 1e-6, 'energy change between voiced neighbours: |3-1|, |3-3|');
  assert.ok(Math.abs(vq[4] - 1) < 1e-6 && Math.abs(vq[5] - Math.sqrt(2 / 3)) < 1e-6, 'flux mean / std');

  for (const expected of streamEqualsTraining({})) {
    const vqOut = expected.subarray(FUNCTIONAL_COUNT);
    assert.ok(vqOut[0] > 0 && vqOut[0] < DEFAULT_PITCH_CONFIG.threshold, `aperiodicity of a harmonic voice is below YIN's threshold (${vqOut[0]})`);
    assert.ok(vqOut[2] > 0 && vqOut[2] <= 1 && vqOut[4] > 0, 'CMND minimum in (0, 1], some spectral flux');
  }
});

test('spectro-temporal functionals: known cepstral dynamics and energy modulation; the stream equals training (with voice quality) within 1e-4', () => {
  const K = SPECTRO_TEMPORAL_CEPSTRA;
  assert.equal(rawFunctionalCount(true, true), FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT + SPECTRO_TEMPORAL_COUNT);
  assert.equal(rawFunctionalCount(false, true), FUNCTIONAL_COUNT + SPECTRO_TEMPORAL_COUNT);
  // Frames alternate between the c1 basis vector cos(pi (b + 0.5) / 40) and zeros: c1 = 20 / 0 (std 10, delta std 20),
  // every other coefficient 0; the frame energy (band mean) of either is 0, so each modulation share is log(1e-4).
  const T = 300;
  const win = new Float32Array(T * bands);
  for (let t = 0; t < T; t += 2) for (let b = 0; b < bands; b++) win[t * bands + b] = Math.cos(Math.PI * (b + 0.5) / bands);
  const out = new Float32Array(FUNCTIONAL_COUNT + SPECTRO_TEMPORAL_COUNT);
  windowFunctionals(win, new Float32Array(T).fill(NaN), T, bands, out, 0, undefined, true);
  const sp = out.subarray(FUNCTIONAL_COUNT);
  assert.ok(Math.abs(sp[0] - 10) < 1e-4 && Math.abs(sp[K] - 20) < 1e-3, `c1 std ${sp[0]}, delta std ${sp[K]}`);
  for (let k = 1; k < K; k++) assert.ok(sp[k] < 1e-4 && sp[K + k] < 1e-4, `c${k + 1} is 0`);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(sp[2 * K + j] - Math.log(1e-4)) < 1e-6);
  // An energy track oscillating at 5 Hz puts its variance in the 4-8 Hz band.
  const am = new Float32Array(T * bands);
  for (let t = 0; t < T; t++) for (let b = 0; b < bands; b++) am[t * bands + b] = Math.sin(2 * Math.PI * 5 * t / 100);
  windowFunctionals(am, new Float32Array(T).fill(NaN), T, bands, out, 0, undefined, true);
  assert.ok(Math.abs(sp[2 * K + 2]) < 1e-4, `4-8 Hz share ~1 (log ${sp[2 * K + 2]})`);
  assert.ok(sp[2 * K] < -8 && sp[2 * K + 1] < -8 && sp[2 * K + 3] < -8, 'other bands ~0');

  for (const v of streamEqualsTraining({ spectroTemporal: true })) assert.ok(v.subarray(FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT).every(Number.isFinite));
});

test('shape functionals: known contour and skewness values; the stream equals training (voice quality + shape, the shipped set) within 1e-4', () => {
  assert.equal(rawFunctionalCount(true, false, true), FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT + SHAPE_COUNT);
  assert.equal(rawFunctionalCount(true, true, true), FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT + SPECTRO_TEMPORAL_COUNT + SHAPE_COUNT);
  const T = 300;
  // Pitch: a parabola 2 (t - 1.5)^2 semitones over t in seconds on frames 0-199 (voiced), unvoiced after; energy: band
  // values 0 except a single frame at 10, so the energy and every band group are strongly right-skewed.
  const st = Float32Array.from({ length: T }, (_, t) => (t < 200 ? 2 * (t / 100 - 1.5) ** 2 : NaN));
  const win = new Float32Array(T * bands);
  for (let b = 0; b < bands; b++) win[17 * bands + b] = 10;
  const out = new Float32Array(FUNCTIONAL_COUNT + SHAPE_COUNT);
  windowFunctionals(win, st, T, bands, out, 0, undefined, false, true);
  const sh = out.subarray(FUNCTIONAL_COUNT);
  assert.ok(Math.abs(sh[0] - 2) < 1e-3, `curvature ${sh[0]} semitones / s^2`);
  // First third (t < 0.67 s) lies higher than the last third (1.33-2 s): the mean difference is negative.
  const first = Array.from({ length: 66 }, (_, t) => 2 * (t / 100 - 1.5) ** 2).reduce((a, b) => a + b) / 66;
  const last = Array.from({ length: 66 }, (_, i) => 2 * ((199 - i) / 100 - 1.5) ** 2).reduce((a, b) => a + b) / 66;
  assert.ok(Math.abs(sh[1] - (last - first)) < 1e-4, `last - first third ${sh[1]}`);
  assert.equal(sh[2], 0, 'no frame pair rises by more than 0.1 semitone (max step 0.06)');
  assert.equal(sh[3], 0);
  const spike = (n: number) => [(n - 2) / Math.sqrt(n - 1), (n * n - 3 * n + 3) / (n - 1) - 3]; // skewness, excess kurtosis of one spike in n
  const [sk, ku] = spike(T);
  assert.ok(Math.abs(sh[5] - sk) < 1e-3 && Math.abs(sh[6] - ku) < 1e-2, `energy skewness ${sh[5]} / kurtosis ${sh[6]}`);
  for (let g = 0; g < 8; g++) assert.ok(Math.abs(sh[7 + g] - sk) < 1e-3, `band group ${g}`);
  // Constant windows: every moment is 0 (no spread), and fewer than 6 voiced frames zero the contour part.
  windowFunctionals(new Float32Array(T * bands), new Float32Array(T).fill(NaN), T, bands, out, 0, undefined, false, true);
  assert.ok(sh.every((v) => v === 0));

  for (const v of streamEqualsTraining({ shape: true })) {
    const shOut = v.subarray(FUNCTIONAL_COUNT + VOICE_QUALITY_COUNT);
    assert.ok(shOut.every(Number.isFinite) && shOut.some((x) => x !== 0));
  }
});
