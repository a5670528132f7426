import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioWindower } from '../../../src/streaming/audio-windower.js';

test('AudioWindower ring: chunks that straddle the end of the ring, and chunks longer than it, keep the newest samples exactly', () => {
  const cap = 1000;
  const w = new AudioWindower(cap);
  const all: number[] = [];
  let next = 0;
  for (const size of [1, 333, 999, 7, 1000, 1501, 250, 998, 3]) {
    const chunk = Float32Array.from({ length: size }, () => next++);
    w.push(chunk, 0);
    all.push(...chunk);
    const total = all.length;
    const held = w.samples(0, total);
    assert.equal(held.length, Math.min(cap, total));
    assert.deepEqual(Array.from(held), all.slice(total - held.length), `after a chunk of ${size}`);
    // An inner range reads across the wrap point too.
    const lo = Math.max(0, total - 700), hi = total - 100;
    if (hi > lo) assert.deepEqual(Array.from(w.samples(lo, hi)), all.slice(lo, hi));
  }
});
