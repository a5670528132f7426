import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpusWasmDecoder, OpusWasmEncoder } from '../../../src/webrtc/opus-wasm.js';

function tone(hz: number, frames: number): Int16Array[] {
  return Array.from({ length: frames }, (_, k) => Int16Array.from({ length: 960 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * (k * 960 + i)) / 48000))));
}

test('Opus round trip: a 440 Hz tone survives at > 30 dB SNR (libopus delay 312 samples)', () => {
  const enc = new OpusWasmEncoder();
  const dec = new OpusWasmDecoder();
  const src = tone(440, 50);
  const out = src.flatMap((f) => Array.from(dec.decode(enc.encode(f, 960))));
  const inp = src.flatMap((f) => Array.from(f, (x) => x / 32768));
  let sig = 0;
  let err = 0;
  for (let i = 2000; i < inp.length - 2000; i++) {
    sig += inp[i] ** 2;
    err += (inp[i] - out[i + 312]) ** 2;
  }
  const snr = 10 * Math.log10(sig / err);
  assert.ok(snr > 30, `SNR ${snr.toFixed(1)} dB`);
  enc.delete();
  dec.delete();
});

test('200 concurrent decoders in one process decode exactly like a lone decoder (opusscript fails at ~28)', () => {
  const enc = new OpusWasmEncoder();
  const streams = Array.from({ length: 200 }, (_, s) => tone(200 + 7 * s, 5).map((f) => enc.encode(f, 960)));
  const reference = streams.map((pkts) => {
    const d = new OpusWasmDecoder();
    const out = pkts.map((p) => d.decode(p));
    d.delete();
    return out;
  });
  const decoders = streams.map(() => new OpusWasmDecoder());
  for (let k = 0; k < 5; k++) {
    for (let s = 0; s < streams.length; s++) assert.deepEqual(decoders[s].decode(streams[s][k]), reference[s][k], `stream ${s} packet ${k}`);
  }
  for (const d of decoders) d.delete();
  enc.delete();
});

test('a corrupt or empty packet throws instead of returning garbage', () => {
  const dec = new OpusWasmDecoder();
  assert.throws(() => dec.decode(new Uint8Array(0)), RangeError);
  // TOC byte announcing a code-3 packet with an impossible frame count.
  assert.throws(() => dec.decode(Uint8Array.from([0x03, 0xff, 0x00])), /libopus decode error/);
  dec.delete();
});
