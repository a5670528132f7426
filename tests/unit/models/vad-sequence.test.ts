import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { decodeWav, readWav } from '../../../src/features/wav.js';
import { SileroVad, sileroVadPath } from '../../../src/models/speech/vad.js';
import { sileroSequenceGraph } from '../../../src/models/speech/vad-sequence-graph.js';
import { nonSpeechSignals } from '../../../src/training/speech/vad-signals.js';
import { hasShared, listSpeechClips } from '../../../src/training/ravdess.js';
import { windowRatios } from './vad-window-ratios.js';

const CHUNK = 1536;
/** Largest |P(speech)| difference allowed between the rewritten graph and the package's graph (float rounding). */
const P_TOLERANCE = 1e-5;

/** The package's own graph, one chunk per call with the state carried over: what vad.ts ran before the rewrite. */
async function referenceProbabilities(x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(sileroVadPath(), { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  try {
    const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), [1]);
    let h = new Float32Array(128), c = new Float32Array(128);
    const out = new Float32Array(Math.floor(x.length / CHUNK));
    for (let k = 0; k < out.length; k++) {
      const r = await session.run({
        input: new ort.Tensor('float32', x.slice(k * CHUNK, (k + 1) * CHUNK), [1, CHUNK]), sr,
        h: new ort.Tensor('float32', h, [2, 1, 64]), c: new ort.Tensor('float32', c, [2, 1, 64]),
      });
      h = r.hn.data as Float32Array<ArrayBuffer>;
      c = r.cn.data as Float32Array<ArrayBuffer>;
      out[k] = (r.output.data as Float32Array)[0];
    }
    return out;
  } finally {
    await session.release();
  }
}

/** The rewritten graph through SileroVad.step, 0.5 s hops as the server hears them (runs of 5 and 6 chunks). */
async function sequenceProbabilities(vad: SileroVad, x: Float32Array): Promise<Float32Array> {
  const out = new Float32Array(Math.floor(x.length / CHUNK));
  let h: Float32Array = new Float32Array(128), c: Float32Array = new Float32Array(128), next = 0;
  for (let end = 8000; next < out.length; end += 8000) {
    const n = Math.min(Math.floor(Math.min(end, x.length) / CHUNK), out.length) - next;
    if (n <= 0) continue;
    const r = await vad.step(x.slice(next * CHUNK, (next + n) * CHUNK), n, h, c);
    out.set(r.p, next);
    ({ h, c } = r);
    next += n;
  }
  return out;
}

function compare(name: string, ref: Float32Array, got: Float32Array): void {
  assert.equal(got.length, ref.length, `${name}: chunk count`);
  let worst = 0;
  for (let k = 0; k < ref.length; k++) {
    worst = Math.max(worst, Math.abs(ref[k] - got[k]));
    assert.equal(got[k] >= 0.5, ref[k] >= 0.5, `${name}: chunk ${k} decision (P ${ref[k]} before, ${got[k]} now)`);
  }
  assert.ok(worst <= P_TOLERANCE, `${name}: max |P difference| ${worst} > ${P_TOLERANCE}`);
}

const fixture = () => decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;

test('Silero sequence graph: per-chunk P(speech) and decisions equal the package graph one chunk per call (speech fixture, non-speech signals)', async () => {
  const vad = await SileroVad.load();
  try {
    const clip = fixture();
    compare('CREMA-D fixture', await referenceProbabilities(clip), await sequenceProbabilities(vad, clip));
    assert.ok(vad.chunks / vad.calls >= 4, `one stream: ${(vad.chunks / vad.calls).toFixed(1)} chunks per call`);
    for (const { name, samples } of nonSpeechSignals(4)) compare(name, await referenceProbabilities(samples), await sequenceProbabilities(vad, samples));
  } finally {
    await vad.dispose();
  }
});

test('Silero sequence graph on RAVDESS: P(speech) and decisions equal the package graph (skips without ../shared)', { skip: hasShared() ? false : 'RAVDESS not found under ../shared (EMOSTREAM_SHARED_DIR): skipped' }, async () => {
  const vad = await SileroVad.load();
  try {
    // One clip in 121 (clips are sorted by id, the actor last: a stride of 121 walks across actors and emotions).
    for (const clip of listSpeechClips().filter((_, i) => i % 121 === 0)) {
      const x = readWav(clip.path).samples;
      compare(clip.path, await referenceProbabilities(x), await sequenceProbabilities(vad, x));
    }
  } finally {
    await vad.dispose();
  }
});

test('Silero sequence graph: a run that is not 1..16 whole chunks is refused with a clear error', async () => {
  const vad = await SileroVad.load();
  try {
    const h = new Float32Array(128), c = new Float32Array(128);
    await assert.rejects(vad.step(new Float32Array(CHUNK + 1), 1, h, c), /whole chunks/);
    await assert.rejects(vad.step(new Float32Array(17 * CHUNK), 17, h, c), /whole chunks/);
    await assert.rejects(vad.step(new Float32Array(0), 0, h, c), /whole chunks/);
  } finally {
    await vad.dispose();
  }
});

test('Silero sequence graph: a graph of another shape is refused by name', () => {
  assert.throws(() => sileroSequenceGraph(new Uint8Array([8, 8]), CHUNK), /not the Silero VAD v4 graph/);
});

test('voice activity stream: NaN, infinities and out-of-range samples are heard as the front end sanitises them (0, clamped)', async () => {
  const vad = await SileroVad.load();
  try {
    const clip = fixture();
    const bad = Float32Array.from(clip, (x, i) => (i % 997 === 0 ? NaN : i % 1009 === 0 ? Infinity : i % 1013 === 0 ? -Infinity : 3 * x));
    const clean = Float32Array.from(bad, (x) => (Number.isFinite(x) ? Math.max(-1, Math.min(1, x)) : 0));
    const [fromBad, fromClean] = [await windowRatios(vad, bad), await windowRatios(vad, clean)];
    assert.deepEqual(fromBad, fromClean);
    assert.ok(fromClean.some((r) => r > 0), 'the loud clip is still heard as speech');
  } finally {
    await vad.dispose();
  }
});
