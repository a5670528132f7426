import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABLATION_ARMS, armCopy } from '../../../src/training/speech/augment-ablation.js';
import { snrDb } from '../../../src/training/speech/wave-augment.js';
import { rng } from '../../../src/training/random.js';

const rate = 16000;
const tone = (hz: number, seconds = 1) => Float32Array.from({ length: rate * seconds }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate) * (1 + 0.5 * Math.sin((2 * Math.PI * 3 * i) / rate)));

test('ablation arms: each single augmentation is applied alone and always; the mixes add noise or babble', () => {
  assert.deepEqual([...ABLATION_ARMS], ['clean', 'noise', 'babble', 'gain', 'speed', 'reverb', 'telephone', 'opus', 'noise,babble', 'all']);
  const x = tone(220);
  const others = [tone(310), tone(450), tone(170)];
  const rand = rng(5);
  // Gain alone: the same waveform scaled by one factor within +-10 dB.
  const g = armCopy('gain', x, rand, others);
  const ratio = g[1000] / x[1000];
  assert.ok(Math.abs(20 * Math.log10(Math.abs(ratio))) <= 10.0001, `gain ${ratio}`);
  for (let i = 0; i < x.length; i += 997) assert.ok(Math.abs(g[i] - ratio * x[i]) < 1e-5);
  // Speed alone changes the length within 0.9-1.1 and nothing is added.
  const s = armCopy('speed', x, rand, others);
  assert.ok(s.length >= Math.floor(x.length / 1.1) - 1 && s.length <= Math.ceil(x.length / 0.9) + 1, `speed length ${s.length}`);
  // Noise alone and babble alone: the same length, added at 5-20 dB SNR.
  for (const arm of ['noise', 'babble', 'noise,babble'] as const) {
    const y = armCopy(arm, x, rand, others);
    assert.equal(y.length, x.length);
    const added = y.map((v, i) => v - x[i]);
    const snr = snrDb(x, added);
    assert.ok(snr >= 4.9 && snr <= 20.1, `${arm}: ${snr.toFixed(2)} dB`);
  }
});
