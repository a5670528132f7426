import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/features/wav.js';
import { SileroVad } from '../../../src/models/speech/vad.js';
import { createInProcessRunner } from '../../../src/models/onnx-runner-inprocess.js';
import { loadSpeechModel } from '../../../src/models/speech/index.js';
import { SessionPipeline } from '../../../src/streaming/session-pipeline.js';
import { createMonoResampler } from '../../../src/streaming/resampler.js';
import type { EmotionResult } from '../../../src/protocol/v1/messages.js';
import { nonSpeechSignals } from '../../../src/training/speech/vad-signals.js';
import { hasShared, listSpeechClips } from '../../../src/training/ravdess.js';
import { readWav } from '../../../src/features/wav.js';
import { windowRatios } from './vad-window-ratios.js';

const MIN_RATIO = 0.3;

const fixture = () => decodeWav(readFileSync('tests/fixtures/speech/cremad-1001_DFA_ANG_XX.wav')).samples;

test('voice activity: silence, faint noise, DC offset, clipping and sine tones give no speech (every 3 s window)', async () => {
  const vad = await SileroVad.load();
  try {
    // The 150 Hz square wave (a sine clipped hard) is the one synthetic signal Silero calls speech at 96 ms chunks;
    // it is reported in models/speech/vad-report.md and left out here.
    const signals = nonSpeechSignals(4).filter((s) => !s.name.includes('square wave'));
    for (const kind of ['silence', 'noise', 'DC offset', 'clipping', 'sine']) assert.ok(signals.some((s) => s.name.includes(kind)), kind);
    for (const s of signals) {
      const ratios = await windowRatios(vad, s.samples);
      assert.ok(ratios.every((r) => r < MIN_RATIO), `${s.name}: speech ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
    }
  } finally {
    await vad.dispose();
  }
});

test('voice activity: a real speech clip (committed CREMA-D fixture) keeps its speech, its leading silence does not', async () => {
  const vad = await SileroVad.load();
  try {
    const x = fixture();
    const s = vad.createStream();
    s.push(x);
    // The clip: ~0.3 s of room tone, then "Don't forget a jacket" until ~2.2 s.
    const speech = await s.speechRatio(0.5 * 16000, 1.8 * 16000);
    assert.ok(speech >= 0.8, `speech part: ratio ${speech}`);
    assert.ok(await s.speechRatio(0, x.length) >= MIN_RATIO);
    const silence = await s.speechRatio(0, 0.2 * 16000);
    assert.ok(silence < MIN_RATIO, `leading 0.2 s: ratio ${silence}`);
  } finally {
    await vad.dispose();
  }
});

test('voice activity on RAVDESS: speech segments keep >= 90 %, leading silences lose >= 95 % (skips without ../shared)', { skip: hasShared() ? false : 'RAVDESS not found under ../shared (EMOSTREAM_SHARED_DIR): skipped' }, async () => {
  const vad = await SileroVad.load();
  try {
    // One clip of each of the 24 actors (every 60th clip): the same onset rule as src/training/speech/vad-eval.ts.
    const clips = listSpeechClips().filter((_, i) => i % 60 === 0);
    let kept = 0, rejected = 0, silences = 0;
    for (const c of clips) {
      const x = readWav(c.path).samples;
      const lv = Array.from({ length: Math.floor(x.length / 160) }, (_, f) => {
        let e = 0;
        for (let k = f * 160; k < f * 160 + 160; k++) e += x[k] * x[k];
        return 10 * Math.log10(e / 160 + 1e-20);
      });
      const peak = Math.max(...lv);
      let onset = 0, offset = lv.length - 1;
      while (lv[onset] < peak - 30) onset++;
      while (lv[offset] < peak - 30) offset--;
      const s = vad.createStream();
      s.push(x);
      if (await s.speechRatio(onset * 160, (offset + 1) * 160) >= MIN_RATIO) kept++;
      if (onset - 10 >= 30) {
        silences++;
        if (await s.speechRatio(0, (onset - 10) * 160) < MIN_RATIO) rejected++;
      }
      s.close();
    }
    assert.ok(kept / clips.length >= 0.9, `speech kept in ${kept}/${clips.length}`);
    assert.ok(silences >= 10 && rejected / silences >= 0.95, `silence rejected in ${rejected}/${silences}`);
  } finally {
    await vad.dispose();
  }
});

test('session pipeline: 4 s of silence then faint pink noise carry no speech posterior; speech does (voice, protocol 1.1)', async () => {
  const model = await loadSpeechModel({ runnerFactory: (p) => createInProcessRunner(p) });
  assert.ok(model.status().available, String(model.status().error));
  try {
    const run = async (audio: Float32Array) => {
      const results: EmotionResult[] = [];
      const p = new SessionPipeline({
        sessionId: 'vad', windowMs: 3000, hopMs: 500, maxPendingHops: 64, videoAnalysisFps: 10, maxBufferedChunks: 64,
        minSpeechRatio: MIN_RATIO,
        models: {
          speech: {
            name: model.name, createStream: () => model.createStream(),
            infer: async (w) => ({ probs: (await model.inferBatch([w as never]))[0], queueMs: 0, inferMs: 0, batchSize: 1 }),
          },
          face: null, fusion: null, video: null,
        },
        createResampler: createMonoResampler, onResult: (r) => results.push(r), onError: (e) => assert.fail(e.message),
      });
      for (let at = 0; at < audio.length; at += 1600) {
        p.pushAudio({ ptsUs: (at / 16000) * 1e6, sampleRate: 16000, channels: 1, interleaved: audio.slice(at, at + 1600) });
        await new Promise((r) => setImmediate(r));
      }
      await p.end();
      return results;
    };
    const silenceNoise = new Float32Array(16000 * 8);
    const pink = nonSpeechSignals(4).find((s) => s.name === 'pink noise -50 dBFS')!.samples;
    silenceNoise.set(pink, 16000 * 4);
    const quiet = await run(silenceNoise);
    assert.ok(quiet.length >= 16);
    for (const r of quiet) {
      assert.equal(r.speech, null, `hop ${r.hop}: speech posterior on silence/noise`);
      assert.equal(r.fused, null, 'no modality left: fused is null');
      assert.equal(r.voice?.active, false);
      assert.ok(r.voice!.speechRatio < MIN_RATIO);
    }
    const speech = await run(fixture());
    const withSpeech = speech.filter((r) => r.speech !== null);
    assert.ok(withSpeech.length >= 2, `speech windows with a posterior: ${withSpeech.length}/${speech.length}`);
    for (const r of withSpeech) {
      assert.equal(r.voice?.active, true);
      assert.equal(r.fused?.head, 'passthrough:speech');
    }
  } finally {
    await model.dispose();
  }
});
