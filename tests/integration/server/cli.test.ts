import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadVideoAnalyzer } from '../../../src/face/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { tinyLoaders } from '../../helpers/tiny-models.js';

/** A 16-bit mono WAV of a 300 Hz tone (ffmpeg decodes it like any real file). */
function writeWav(path: string, seconds: number, rate = 22050): void {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + n * 2, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32); buf.writeUInt16LE(16, 34);
  buf.write('data', 36); buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / rate)), 44 + 2 * i);
  writeFileSync(path, buf);
}

function run(args: string[], timeoutMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/emostream.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let ts: TestServer;
/** A server with the real face pipeline (src/face) as its video analyzer. */
let tsVideo: TestServer;
let dir: string;
before(async () => {
  ts = await startTestServer('uws');
  tsVideo = await startTestServer('uws', {}, { ...tinyLoaders(), video: (c) => loadVideoAnalyzer(c as Parameters<typeof loadVideoAnalyzer>[0]) });
  dir = mkdtempSync(join(tmpdir(), 'emo-cli-'));
  writeWav(join(dir, 'tone.wav'), 1.6);
  // A video-only MP4 (no audio track) of a committed face photo, 1.5 s at 10 fps.
  const still = new URL('../../fixtures/faces/cremad-1001-neutral.jpg', import.meta.url).pathname;
  execFileSync('ffmpeg', ['-v', 'error', '-loop', '1', '-framerate', '10', '-i', still, '-t', '1.5', '-an', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', join(dir, 'face-only.mp4')]);
});
after(async () => {
  await ts.close();
  await tsVideo.close();
  rmSync(dir, { recursive: true, force: true });
});

interface JsonResult {
  hop: number;
  final: boolean;
  speech: unknown;
  faces: { count: number } | null;
  face: { probs: number[]; frames: number } | null;
  aus: { mean: number[] } | null;
}

test('emostream stream --video on a video-only file streams the video alone; --json results carry faces and aus.mean', async () => {
  const r = await run(['stream', join(dir, 'face-only.mp4'), '--url', tsVideo.url, '--video', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /has no audio track; streaming its video only/);
  assert.doesNotMatch(r.stderr, /could not decode/);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonResult);
  assert.ok(lines.length >= 3, `${lines.length} results`);
  assert.ok(lines.every((l) => l.speech === null && 'aus' in l));
  const withFace = lines.filter((l) => l.faces?.count === 1);
  assert.ok(withFace.length >= 2, JSON.stringify(lines.map((l) => l.faces)));
  for (const l of withFace) {
    assert.equal(l.aus!.mean.length, 35);
    assert.ok(l.face && l.face.frames >= 1 && l.face.probs.length === 8);
  }
  assert.equal(lines[lines.length - 1].final, true);
});

test('emostream stream --video on an audio-only file says there is no video track and streams the audio', async () => {
  const r = await run(['stream', join(dir, 'tone.wav'), '--url', tsVideo.url, '--video', '--fast', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /has no video track; streaming its audio only/);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonResult);
  assert.deepEqual(lines.map((l) => l.hop), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(lines.every((l) => l.speech !== null && l.aus === null && l.faces === null));
});

test('emostream stream without --video on a video-only file is a clear error', async () => {
  const r = await run(['stream', join(dir, 'face-only.mp4'), '--url', tsVideo.url]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /has no audio track; add --video/);
});

test('emostream stream --fast --json: ffmpeg-decoded file, one JSON result per line, summary on stderr', async () => {
  const r = await run(['stream', join(dir, 'tone.wav'), '--url', ts.url, '--fast', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; hop: number; final: boolean; speech: { probs: number[] } | null; e2eMs: number | null });
  assert.deepEqual(lines.map((l) => l.hop), [0, 1, 2, 3, 4, 5, 6]);
  assert.ok(lines.every((l) => l.type === 'emotion' && l.speech && l.e2eMs !== null));
  assert.equal(lines[lines.length - 1].final, true);
  assert.match(r.stderr, /results: 7, dropped windows: 0/);
  assert.match(r.stderr, /models: tiny-speech@cpu, tiny-face@cpu/);
});

test('emostream stream prints a timeline; a missing file is a clear error', async () => {
  const r = await run(['stream', join(dir, 'tone.wav'), '--url', ts.url, '--fast']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+0\.50s\s+\w+\s+\w+ 0\.\d\d/m);
  assert.match(r.stdout, /latency end-to-end p50 [\d.]+ ms/);
  const missing = await run(['stream', join(dir, 'nope.wav'), '--url', ts.url]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no such file/);
});

test('emostream subscribe: unknown session exits non-zero with the error code', async () => {
  const r = await run(['subscribe', 'no-such-session', '--url', ts.url]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /EMO_ERR_UNKNOWN_SESSION/);
});
