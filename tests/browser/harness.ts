import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { readWav } from '../../src/features/wav.js';
import { hasShared, SHARED_DIR } from '../../src/training/ravdess.js';
import { to48k } from '../../clients/node/whip-client.js';

export const CHROMIUM = process.env.EMOSTREAM_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** The RAVDESS clip fed as the fake microphone when ../shared is present (actor 1, angry, strong). */
export const RAVDESS_CLIP = '03-01-05-02-01-01-01.wav';
const FIXTURE_SPEECH_CLIP = fileURLToPath(new URL('../fixtures/speech/cremad-1001_DFA_ANG_XX.wav', import.meta.url));
export const MEAD_CLIP = 'W009_front_angry_level3_001.mp4';

export interface FakeMedia {
  dir: string;
  wav: string;
  y4m: string;
  audioSource: string;
  videoSource: string;
  /** The fake microphone's audio at 48 kHz (it loops). */
  samples48k: Float32Array;
  cleanup(): void;
}

function writeWav16(path: string, samples: Float32Array, rate: number): void {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767))), 44 + 2 * i);
  writeFileSync(path, b);
}

/**
 * Files for Chromium's fake capture devices: a RAVDESS speech clip (../shared) or, without it, a committed CREMA-D
 * speech clip; a MEAD face clip converted to Y4M by ffmpeg or ffmpeg's test pattern.
 */
export async function makeFakeMedia(): Promise<FakeMedia> {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-webrtc-'));
  const wav = join(dir, 'mic.wav');
  const y4m = join(dir, 'cam.y4m');
  let samples48k: Float32Array;
  let audioSource: string;
  const clip = join(SHARED_DIR, 'ravdess', 'speech-16k', 'Actor_01', RAVDESS_CLIP);
  if (hasShared() && existsSync(clip)) {
    const pcm = readWav(clip);
    samples48k = await to48k(pcm.samples, pcm.sampleRate);
    audioSource = `ravdess:${RAVDESS_CLIP}`;
  } else {
    // Real speech committed with the tests (CREMA-D, DbCL with attribution): the speech-agreement check needs speech.
    const pcm = readWav(FIXTURE_SPEECH_CLIP);
    samples48k = await to48k(pcm.samples, pcm.sampleRate);
    audioSource = 'fixture:cremad-1001_DFA_ANG_XX.wav';
  }
  writeWav16(wav, samples48k, 48000);
  let videoSource = 'synthetic:ffmpeg-testsrc2';
  const mead = join(SHARED_DIR, 'faces', 'mead', MEAD_CLIP);
  if (existsSync(mead)) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', mead, '-t', '3', '-vf', 'fps=15,scale=320:240', '-pix_fmt', 'yuv420p', y4m]);
    videoSource = `mead:${MEAD_CLIP}`;
  } else {
    // ffmpeg's textured test pattern: Chromium's H264 encoder delivered no decodable frames for a flat synthetic disc.
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-t', '3', '-pix_fmt', 'yuv420p', y4m]);
  }
  return { dir, wav, y4m, audioSource, videoSource, samples48k, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Headless Debian Chromium with fake media devices reading `media`, in a fresh profile. */
export async function launchChromium(media: FakeMedia): Promise<BrowserContext> {
  const profile = mkdtempSync(join(media.dir, 'profile-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      // Gather on the loopback interface too, so the test also connects on a machine whose only interface is lo.
      '--allow-loopback-in-peer-connection',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${media.wav}`, `--use-file-for-fake-video-capture=${media.y4m}`,
      // Keep timers and rendering running in a page nobody looks at.
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
    ],
    viewport: { width: 1000, height: 900 },
  });
}

export interface PageRun {
  transport: string | null;
  sessionId: string | null;
  results: { hop: number; windowEndUs: number; speech: { probs: number[] } | null; face: { probs: number[] } | null; fused: { probs: number[]; label: string } | null; faces: { count: number } | null }[];
  latencies: { ms: number; basis: string | null; hop: number }[];
  stats: { audio?: { lost: number; missingAudioMs: number; received: number } | null; video?: { framesDelivered: number; framesDepacketized: number; codec: string } | null } | null;
  errors: { message: string }[];
  status: string;
}

/** Opens the web client, clicks Start, streams for `seconds`, clicks Stop and returns what the page recorded. */
export async function runPage(
  ctx: BrowserContext, baseUrl: string, query: string, seconds: number,
  hooks: { onStarted?: (p: Page) => Promise<void>; beforeStop?: (p: Page) => Promise<void> } = {},
): Promise<PageRun> {
  const page = await ctx.newPage();
  try {
    await page.goto(`${baseUrl}/?${query}`);
    await page.click('#start');
    await page.waitForFunction(() => (window as unknown as { emostream: { transport: string | null; errors: unknown[] } }).emostream.transport !== null
      || (window as unknown as { emostream: { errors: unknown[] } }).emostream.errors.length > 0, undefined, { timeout: 15_000 });
    const t0 = Date.now();
    await hooks.onStarted?.(page);
    await page.waitForTimeout(Math.max(0, seconds * 1000 - (Date.now() - t0)));
    await hooks.beforeStop?.(page);
    await page.click('#stop');
    await page.waitForFunction(() => /Stopped|ended/.test((window as unknown as { emostream: { status: string } }).emostream.status), undefined, { timeout: 10_000 });
    return await page.evaluate(() => {
      const s = (window as unknown as { emostream: PageRun }).emostream;
      return JSON.parse(JSON.stringify({ transport: s.transport, sessionId: s.sessionId, results: s.results, latencies: s.latencies, stats: s.stats, errors: s.errors, status: s.status })) as PageRun;
    });
  } finally {
    await page.close();
  }
}

export function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
}
