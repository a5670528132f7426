import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixdownToMono, AudioInput, MODEL_SAMPLE_RATE } from '../../../src/streaming/audio-input.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import { AudioWindower } from '../../../src/streaming/audio-windower.js';
import { AuWindower } from '../../../src/streaming/au-windower.js';
import { HopScheduler } from '../../../src/streaming/hop-scheduler.js';
import { DropOldestQueue } from '../../../src/lib/bounded-queue.js';
import { FusionStage } from '../../../src/streaming/fusion-stage.js';
import { VideoGate } from '../../../src/streaming/video-gate.js';
import { ProtocolError } from '../../../src/protocol/v1/errors.js';
import { auFrames, oneHot, sineChunks } from '../../helpers/synthetic.js';
import type { Fusion } from '../../../src/contracts/models.js';

function zeroCrossings(x: Float32Array): number {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n;
}
function rms(x: Float32Array): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
}

test('mixdown averages stereo channels', () => {
  assert.deepEqual(Array.from(mixdownToMono(Float32Array.from([1, 0, 0.5, -0.5]), 2)), [0.5, 0]);
});

test('48 kHz stereo sine resamples to 16 kHz keeping frequency and level across chunk boundaries', async () => {
  const input = new AudioInput();
  input.setResampler(await createMonoResampler(48000));
  const parts: Float32Array[] = [];
  for (const c of sineChunks({ seconds: 1, sampleRate: 48000, channels: 2, chunkMs: 10, freqHz: 1000 })) parts.push(input.push(c).samples16k);
  const out = Float32Array.from(parts.flatMap((p) => Array.from(p)));
  assert.ok(Math.abs(out.length - MODEL_SAMPLE_RATE) < 200, `got ${out.length} samples`);
  const steady = out.subarray(1000, 15000);
  // 1 kHz sine: 2 zero crossings per period.
  const crossingsPerSecond = (zeroCrossings(steady) / steady.length) * MODEL_SAMPLE_RATE;
  assert.ok(Math.abs(crossingsPerSecond - 2000) < 20, `crossings/s ${crossingsPerSecond}`);
  assert.ok(Math.abs(rms(steady) - 0.5 / Math.SQRT2) < 0.01, `rms ${rms(steady)}`);
});

test('a sine above the new Nyquist is removed, not aliased (band-limited resampling)', async () => {
  const r = await createMonoResampler(48000);
  const [chunk] = sineChunks({ seconds: 0.5, sampleRate: 48000, chunkMs: 500, freqHz: 12000 });
  const out = r.process(chunk.interleaved);
  assert.ok(rms(out.subarray(500)) < 0.02, `12 kHz tone leaked at rms ${rms(out.subarray(500))}`);
});

test('AudioInput rejects a format change and timestamps going backwards', () => {
  const input = new AudioInput();
  const [a, b] = sineChunks({ seconds: 0.04, sampleRate: 16000 });
  input.push(b);
  assert.throws(() => input.push(a), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_TIMESTAMP_BACKWARDS');
  assert.throws(() => input.push({ ...b, ptsUs: 1e9, sampleRate: 8000 }), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_STREAM_CHANGED');
});

test('AudioWindower keeps the newest samples on the session clock and finds the last chunk pts in a window', () => {
  const w = new AudioWindower(1600);
  for (const c of sineChunks({ seconds: 0.2, sampleRate: 16000, chunkMs: 20, startUs: 1_000_000 })) w.push(c.interleaved, c.ptsUs);
  assert.equal(w.totalSamples, 3200);
  assert.equal(w.endUs, 1_200_000);
  assert.equal(w.usToSample(1_100_000), 1600);
  assert.equal(w.samples(0, 3200).length, 1600, 'only the capacity is held');
  assert.equal(w.lastPtsIn(1_100_000, 1_150_000), 1_140_000);
  assert.equal(w.lastPtsIn(1_000_000, 1_050_000), null, 'chunks older than the ring are forgotten');
  assert.equal(w.lastPtsIn(2_000_000, 3_000_000), null);
});

test('AuWindower selects frames in [start, end), bounds memory and validates', () => {
  const w = new AuWindower(1_000_000, 50);
  for (const f of auFrames({ seconds: 3, fps: 30 })) w.push({ ...f, expression: null, trackIds: null, analysisMs: null });
  assert.ok(w.stats().held <= 31, `held ${w.stats().held}`);
  const snap = w.window(2_500_000, 3_000_000)!;
  assert.equal(snap.window.frames, 15);
  assert.equal(snap.window.aus.length, 15 * 35);
  assert.equal(w.window(0, 1_000_000), null, 'evicted frames are gone');
  const bad = (aus: Float32Array, ptsUs = 4e6) => () => w.push({ ptsUs, aus, expression: null, trackIds: null, analysisMs: null });
  assert.throws(bad(new Float32Array(34)), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_AU_LENGTH');
  assert.throws(bad(Float32Array.from({ length: 35 }, () => NaN)), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_NON_FINITE');
  assert.throws(bad(new Float32Array(35), 0), (e: unknown) => e instanceof ProtocolError && e.code === 'EMO_ERR_TIMESTAMP_BACKWARDS');
});

test('AuWindower averages expression posteriors and collects track ids', () => {
  const w = new AuWindower(10e6, 100);
  w.push({ ptsUs: 0, aus: new Float32Array(35), expression: oneHot(1), trackIds: [3], analysisMs: 10 });
  w.push({ ptsUs: 100_000, aus: new Float32Array(35), expression: oneHot(2), trackIds: [3, 5], analysisMs: 20 });
  const s = w.window(0, 1e6)!;
  assert.deepEqual(Array.from(s.expression!).slice(0, 3), [0, 0.5, 0.5]);
  assert.deepEqual(s.faces, { count: 2, trackIds: [3, 5] });
  assert.equal(s.analysisMs, 15);
});

test('HopScheduler emits one hop per hopUs with windows clipped at the start, then a final flush', () => {
  const s = new HopScheduler(3_000_000, 500_000);
  assert.deepEqual(s.advance(10e6), []);
  s.start(1_000_000);
  const hops = s.advance(2_200_000);
  assert.deepEqual(hops.map((h) => [h.index, h.startUs, h.endUs]), [[0, 1_000_000, 1_500_000], [1, 1_000_000, 2_000_000]]);
  const later = s.advance(5_000_000);
  assert.equal(later.length, 6);
  assert.deepEqual([later[5].startUs, later[5].endUs], [2_000_000, 5_000_000]);
  const fin = s.flush(5_100_000);
  assert.equal(fin.final, true);
  assert.equal(fin.endUs, 5_100_000);
  assert.equal(fin.index, 8);
});

test('DropOldestQueue drops and counts the oldest', () => {
  const seen: number[] = [];
  const q = new DropOldestQueue<number>(2, (x) => seen.push(x));
  q.push(1); q.push(2); q.push(3);
  assert.deepEqual(seen, [1]);
  assert.equal(q.dropped, 1);
  assert.deepEqual(q.take(5), [2, 3]);
});

test('FusionStage uses the fusion model when available, else an explicit named fallback', () => {
  const none = new FusionStage(null);
  assert.equal(none.fuse({}), null);
  const single = none.fuse({ speech: oneHot(3) })!;
  assert.equal(single.label, 'sad');
  assert.equal(single.head, 'passthrough:speech');
  const mean = none.fuse({ speech: oneHot(3), face: Float32Array.from([0, 0, 0, 0.5, 0.5, 0, 0, 0]) })!;
  assert.equal(mean.head, 'mean:speech+face');
  assert.ok(Math.abs(mean.probs[3] - 0.75) < 1e-6);
  const model: Fusion = {
    status: () => ({ name: 'lr', modality: 'fusion', available: true, labels: [] }),
    fuse: () => ({ probs: oneHot(7), head: 'speech+face' }),
  };
  const fused = new FusionStage(model).fuse({ speech: oneHot(3), face: oneHot(4) })!;
  assert.deepEqual([fused.label, fused.head], ['surprised', 'speech+face']);
  const broken: Fusion = { ...model, fuse: () => { throw new Error('boom'); } };
  assert.equal(new FusionStage(broken).fuse({ face: oneHot(4) })!.head, 'passthrough:face');
});

test('VideoGate caps the analysis rate and keeps only the newest waiting frame', () => {
  const g = new VideoGate(10);
  const frame = (ptsUs: number) => ({ format: 'jpeg' as const, width: 1, height: 1, payload: new Uint8Array(0), ptsUs });
  assert.equal(g.offer(frame(0)), 0);
  assert.equal(g.next()!.ptsUs, 0);
  assert.equal(g.offer(frame(33_333)), 1, 'inside the 100 ms interval');
  assert.equal(g.offer(frame(100_000)), 0);
  assert.equal(g.next(), null, 'analyzer busy');
  assert.equal(g.offer(frame(200_000)), 1, 'replaces the waiting frame');
  g.done();
  assert.equal(g.next()!.ptsUs, 200_000);
  assert.equal(g.skipped, 2);
});
