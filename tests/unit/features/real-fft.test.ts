import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealFft } from '../../../src/features/real-fft.js';

test('real FFT: a cosine at bin k has all its energy there (packed DC/Nyquist first); inverse(forward(x)) = N x', () => {
  const n = 512, k = 37;
  const fft = new RealFft(n);
  const x = Float32Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * k * i) / n) + 0.25);
  fft.input().set(x);
  const spec = Float32Array.from(fft.forward());
  assert.ok(Math.abs(spec[0] - 0.25 * n) < 1e-3, `DC ${spec[0]}`);
  assert.ok(Math.abs(spec[1]) < 1e-3, `Nyquist ${spec[1]}`);
  for (let b = 1; b < n / 2; b++) {
    const mag = Math.hypot(spec[2 * b], spec[2 * b + 1]);
    assert.ok(b === k ? Math.abs(mag - n / 2) < 1e-2 : mag < 1e-2, `bin ${b}: |X| = ${mag}`);
  }
  fft.input().set(spec);
  const back = fft.inverse();
  for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i] / n - x[i]) < 1e-5, `sample ${i}`);
});

test('real FFT: instances of one size share buffers safely (each call writes its whole input); memory growth keeps them valid', () => {
  const a = new RealFft(64), b = new RealFft(64);
  a.input().fill(1);
  const dcA = a.forward()[0];
  b.input().fill(0);
  b.input()[0] = 1;
  assert.equal(b.forward()[0], 1);
  assert.equal(dcA, 64);
  // A large plan may grow the WebAssembly memory (replacing its buffer); earlier instances must still work.
  const big = new RealFft(1 << 20);
  big.input().fill(0);
  assert.equal(big.forward()[0], 0);
  a.input().fill(2);
  assert.equal(a.forward()[0], 128);
});

test('real FFT: sizes that are not powers of two >= 32 get a specific error', () => {
  for (const size of [0, 16, 100, 513, 1.5]) assert.throws(() => new RealFft(size), /power of two >= 32/);
});
