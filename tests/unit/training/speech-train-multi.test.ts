import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/features/wav.js';
import { rng } from '../../../src/training/random.js';
import { combinePosteriors, recoverCnnPosterior } from '../../../src/training/speech/combine.js';
import { augmentCopy, augmentNames, COPY_SPEAKER_OFFSET, parseAugment, parseCorpora, sourceSpeaker } from '../../../src/training/speech/multi-corpus-data.js';
import { snrDb } from '../../../src/training/speech/wave-augment.js';

const speech = () => decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;
const sine = (hz: number, n: number) => Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin((2 * Math.PI * hz * i) / 16000));

test('--augment: none, a list switching exactly the named augmentations, clear errors otherwise', () => {
  assert.equal(parseAugment('none'), null);
  const cfg = parseAugment('noise, babble')!;
  assert.deepEqual(augmentNames(cfg), ['noise', 'babble']);
  assert.equal(cfg.opus, false);
  assert.equal(cfg.gain, false);
  assert.deepEqual(augmentNames(parseAugment('telephone,opus,gain,speed,reverb,noise,babble')), ['noise', 'babble', 'gain', 'speed', 'reverb', 'opus', 'telephone']);
  assert.throws(() => parseAugment('noise,echo'), /--augment: 'echo' is not an augmentation/);
  assert.throws(() => parseAugment(''), /--augment/);
  assert.throws(() => parseAugment('none,noise'), /'none' is not an augmentation/);
});

test('--corpora: RAVDESS required and first, no duplicates, folder names only', () => {
  assert.deepEqual(parseCorpora('ased,ravdess,urdu'), ['ravdess', 'ased', 'urdu']);
  assert.deepEqual(parseCorpora('ravdess'), ['ravdess']);
  assert.throws(() => parseCorpora('ased,urdu'), /must include ravdess/);
  assert.throws(() => parseCorpora('ravdess,ased,ased'), /names ased twice/);
  assert.throws(() => parseCorpora('ravdess,../etc'), /not a corpus folder name/);
});

test('an augmented copy always carries noise or babble at 5-20 dB SNR, babble about half the time when both are on', () => {
  const x = speech();
  // Babble sources are 1 kHz tones: a babble residual is (almost) all 1 kHz, a coloured-noise residual is broadband.
  const babble = [sine(1000, 20000), sine(1000, 40000), sine(1000, 30000)];
  const toneShare = (res: Float32Array) => {
    let s = 0, c = 0, e = 0;
    res.forEach((v, i) => { s += v * Math.sin((2 * Math.PI * 1000 * i) / 16000); c += v * Math.cos((2 * Math.PI * 1000 * i) / 16000); e += v * v; });
    return (2 * (s * s + c * c)) / (res.length * e);
  };
  const n = 40;
  let babbled = 0;
  for (let i = 0; i < n; i++) {
    const y = augmentCopy(x, parseAugment('noise,babble')!, rng(1000 + i), babble);
    const res = y.map((v, k) => v - x[k]);
    const snr = snrDb(x, res);
    assert.ok(snr > 5 - 0.01 && snr < 20 + 0.01, `copy ${i}: SNR ${snr.toFixed(2)} dB`);
    const share = toneShare(res);
    assert.ok(share > 0.9 || share < 0.1, `copy ${i}: 1 kHz share ${share.toFixed(3)} is neither babble nor noise`);
    if (share > 0.9) babbled++;
  }
  assert.ok(babbled > n * 0.25 && babbled < n * 0.75, `babble in ${babbled} of ${n} copies`);
  // Babble alone: always babble; noise alone: always noise.
  assert.ok(toneShare(augmentCopy(x, parseAugment('babble')!, rng(3), babble).map((v, k) => v - x[k])) > 0.9);
  assert.ok(toneShare(augmentCopy(x, parseAugment('noise')!, rng(3), babble).map((v, k) => v - x[k])) < 0.1);
  // Babble without three other clips adds nothing.
  assert.deepEqual(augmentCopy(x, parseAugment('babble')!, rng(3), []), x);
});

test('copy pseudo-speakers map back to their source speaker', () => {
  assert.equal(sourceSpeaker(COPY_SPEAKER_OFFSET + 7), 7);
  assert.equal(sourceSpeaker(1003), 1003);
  assert.equal(sourceSpeaker(24), 24);
});

test('recoverCnnPosterior inverts combinePosteriors for w in (0, 1]', () => {
  const r = rng(9);
  const dist = () => { const p = Float32Array.from({ length: 8 }, () => r() + 0.01); const s = p.reduce((a, b) => a + b, 0); return p.map((v) => v / s); };
  for (const w of [0.3, 0.35, 0.5, 1]) {
    const cnn = dist(), other = dist();
    const back = recoverCnnPosterior(combinePosteriors(cnn, other, w), other, w);
    for (let c = 0; c < 8; c++) assert.ok(Math.abs(back[c] - cnn[c]) < 1e-5, `w ${w} class ${c}: ${back[c]} vs ${cnn[c]}`);
  }
  assert.throws(() => recoverCnnPosterior(dist(), dist(), 0), /CNN weight must be in \(0, 1\]/);
});
